"""The majoration SNP: each rule on its own, the weekly cap, PDSA hours, the ledger and the statement."""
from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import month_end, paris_today, to_paris
from snp_service.models import SupplementAct, SupplementLine
from snp_service.reporting import indicators
from snp_service.supplements import ledger, statements

from .supplement_helpers import act, paris

JULY_31 = date(2020, 7, 31)


def verdicts(cpts, month="2020-07"):
    statement = statements.statement(cpts.id, month, detail=True)
    return {a["booking_id"]: a["excluded_by"] for line in statement["lines"] for a in line["acts"]}


def ledger_lines():
    return [(line.booking_id, line.kind, line.amount_cents, line.month)
            for line in db.session.scalars(select(SupplementLine).order_by(SupplementLine.id))]


def test_each_rule_excludes_the_act_with_its_code(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    with world.batch():
        # Week of Monday 6 July 2020: no public holiday.
        eligible = [
            act(world, gp, "2020-07-06T10:00"),
            act(world, gp, "2020-07-07T10:30", booked_before=timedelta(hours=48)),  # exactly 48 h: still within
            act(world, gp, "2020-07-08T19:45"),
            act(world, gp, "2020-07-09T08:00"),
            act(world, gp, "2020-07-11T11:45"),  # Saturday morning
        ]
        excluded = {
            act(world, gp, "2020-07-06T11:00", by_treating_doctor=True).id: "treating_doctor",
            act(world, gp, "2020-07-07T10:00", booked_before=timedelta(hours=48, minutes=1)).id: "delay_over_48h",
            act(world, gp, "2020-07-08T20:00").id: "pdsa_hours",
            act(world, gp, "2020-07-09T07:45").id: "pdsa_hours",
            act(world, gp, "2020-07-11T12:00").id: "pdsa_hours",  # Saturday from noon
            act(world, gp, "2020-07-12T10:00").id: "pdsa_hours",  # Sunday
        }
        # Not acts at all: not regulated, not honored.
        act(world, gp, "2020-07-10T10:00", channel="other")
        act(world, gp, "2020-07-10T11:00", outcome="no_show")
        act(world, gp, "2020-07-10T12:00", outcome=None)

    counts = ledger.accrue(today=JULY_31)

    assert counts == {"acts": 11, "eligible": 5, "accruals": 5, "reversals": 0, "net_cents": 5 * 1500}
    assert verdicts(cpts) == {b.id: None for b in eligible} | excluded
    line, = statements.statement(cpts.id, "2020-07")["lines"]
    assert (line["practitioner_id"], line["acts"], line["amount_cents"]) == (gp.id, 5, 7500)
    assert statements.ledger_cents([cpts.id], date(2020, 7, 6), date(2020, 7, 12)) == 7500


def test_french_public_holiday_is_pdsa_all_day(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    monday = act(world, gp, "2020-07-13T10:00")
    bastille_day = act(world, gp, "2020-07-14T10:00")  # Tuesday 14 July: fête nationale
    morning_after = act(world, gp, "2020-07-15T07:30")
    wednesday = act(world, gp, "2020-07-15T10:00")
    assumption = act(world, gp, "2020-08-15T10:00")  # a Saturday morning, but 15 August

    ledger.accrue(today=date(2020, 8, 20))

    assert verdicts(cpts) == {monday.id: None, bastille_day.id: "pdsa_hours", morning_after.id: "pdsa_hours",
                              wednesday.id: None}
    assert verdicts(cpts, "2020-08") == {assumption.id: "pdsa_hours"}
    assert statements.statement(cpts.id, "2020-07")["total_cents"] == 3000


def test_weekly_cap_keeps_the_earliest_acts_of_the_iso_week(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    # Booked latest-first, so the booking ids run against the slot order: the cap must follow the slots.
    with world.batch():
        week = [f"2020-07-{day}T{clock}" for day in (24, 23, 22, 21, 20) for clock in ("11:00", "10:30", "10:00", "09:30", "09:00")]
        bookings = {start: act(world, gp, start) for start in week}
        pdsa = act(world, gp, "2020-07-22T21:00")  # excluded by another rule: does not use up the cap
        next_monday = act(world, gp, "2020-07-27T09:00")

    ledger.accrue(today=JULY_31)

    found = verdicts(cpts)
    capped = {bookings[start].id for start in week if start.startswith("2020-07-24")}
    assert {b for b, reason in found.items() if reason == "weekly_cap"} == capped
    assert found[pdsa.id] == "pdsa_hours" and found[next_monday.id] is None
    line, = statements.statement(cpts.id, "2020-07")["lines"]
    assert (line["acts"], line["amount_cents"]) == (21, 21 * 1500)


def test_late_cancellation_and_outcome_change_add_reversal_lines(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    kept = act(world, gp, "2020-07-20T10:00")
    cancelled = act(world, gp, "2020-07-21T10:00")
    corrected = act(world, gp, "2020-07-22T10:00")
    ledger.accrue(today=JULY_31)
    first_lines = ledger_lines()

    cancelled.status, cancelled.slot.status = "cancelled", "free"
    corrected.outcome = "no_show"
    db.session.commit()
    counts = ledger.accrue(today=JULY_31)

    assert counts["reversals"] == 2 and counts["net_cents"] == -3000
    assert ledger_lines() == first_lines + [(cancelled.id, "reversal", -1500, "2020-07"),
                                      (corrected.id, "reversal", -1500, "2020-07")]
    assert first_lines == [(b.id, "accrual", 1500, "2020-07") for b in (kept, cancelled, corrected)]
    line, = statements.statement(cpts.id, "2020-07")["lines"]
    assert (line["acts"], line["amount_cents"]) == (1, 1500)

    corrected.outcome = "honored"  # the GP fixes a mistaken no-show: accrued again, as a new line
    db.session.commit()
    ledger.accrue(today=JULY_31)
    assert ledger_lines()[-1] == (corrected.id, "accrual", 1500, "2020-07")
    assert statements.statement(cpts.id, "2020-07")["total_cents"] == 3000


def test_accrual_is_idempotent(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    act(world, gp, "2020-07-20T10:00")
    act(world, gp, "2020-07-20T21:00")
    ledger.accrue(today=JULY_31)
    lines, acts = ledger_lines(), db.session.scalars(select(SupplementAct.booking_id)).all()

    again = ledger.accrue(today=JULY_31)

    assert again == {"acts": 2, "eligible": 1, "accruals": 0, "reversals": 0, "net_cents": 0}
    assert ledger_lines() == lines and sorted(db.session.scalars(select(SupplementAct.booking_id)).all()) == sorted(acts)


def test_amount_and_cap_come_from_configuration(world, app):
    app.config["SUPPLEMENT_RULES"] = app.config["SUPPLEMENT_RULES"] | {"amount_cents": 1650, "weekly_cap": 1}
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    act(world, gp, "2020-07-20T10:00")
    act(world, gp, "2020-07-21T10:00")
    ledger.accrue(today=JULY_31)
    assert statements.statement(cpts.id, "2020-07")["total_cents"] == 1650
    assert statements.ledger_cents([cpts.id], date(2020, 7, 1), date(2020, 7, 31)) == 1650


def test_weekly_cap_counts_a_practitioners_acts_in_every_cpts(world, app):
    app.config["SUPPLEMENT_RULES"] = app.config["SUPPLEMENT_RULES"] | {"weekly_cap": 1}
    first, second = world.cpts(), world.cpts()
    gp = world.practitioner(first)
    gp.cpts.append(second)
    db.session.commit()
    act(world, gp, "2020-07-20T10:00")
    act(world, gp, "2020-07-21T10:00")
    ledger.accrue(today=JULY_31)
    assert statements.ledger_cents([second.id], date(2020, 7, 21), date(2020, 7, 21)) == 0
    assert statements.ledger_cents([second.id], date(2020, 7, 20), date(2020, 7, 20)) == 1500
    assert statements.ledger_cents([first.id, second.id], date(2020, 7, 1), date(2020, 7, 31)) == 1500


def test_statement_api_json_and_scopes(client, world):
    cpts, other = world.cpts(), world.cpts()
    gp_user = world.gp(cpts, last_name="Bernard")
    colleague = world.practitioner(cpts, last_name="Arnaud")
    kept = act(world, gp_user.practitioner, "2020-07-20T10:00")
    act(world, gp_user.practitioner, "2020-07-21T10:00")
    night = act(world, colleague, "2020-07-20T22:00")
    ledger.accrue(today=JULY_31)
    coordinator = world.headers(world.user("coordinator", cpts))

    body = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07", headers=coordinator).get_json()
    assert body == {"month": "2020-07", "from": "2020-07-01", "to": "2020-07-31", "total_cents": 3000, "lines": [
        {"practitioner_id": colleague.id, "rpps": colleague.rpps, "last_name": "Arnaud", "first_name": "Alex",
         "acts": 0, "eligible_acts": 0, "amount_cents": 0},
        {"practitioner_id": gp_user.practitioner_id, "rpps": gp_user.practitioner.rpps, "last_name": "Bernard",
         "first_name": "Alex", "acts": 2, "eligible_acts": 2, "amount_cents": 3000},
    ]}

    detail = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07&detail=1", headers=coordinator).get_json()
    assert detail["lines"][0]["acts"] == [{"booking_id": night.id, "start": "2020-07-20T22:00:00+02:00",
                                           "channel": "116117", "eligible": False, "excluded_by": "pdsa_hours"}]
    assert detail["lines"][1]["acts"][0]["booking_id"] == kept.id

    own = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07", headers=world.headers(gp_user)).get_json()
    assert [line["practitioner_id"] for line in own["lines"]] == [gp_user.practitioner_id]
    assert own["total_cents"] == 3000

    assert client.get(f"/api/v1/supplements?cpts_id={other.id}&month=2020-07", headers=coordinator).status_code == 403
    regulator = world.headers(world.user("regulator", cpts))
    assert client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07", headers=regulator).status_code == 403


@pytest.mark.parametrize("query", ["cpts_id={id}&month=2020-13", "cpts_id={id}&month=juillet",
                                   "cpts_id={id}&month=2020-07&format=pdf", "cpts_id=x&month=2020-07", "cpts_id={id}"])
def test_statement_api_rejects_bad_queries_with_422(client, world, query):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    response = client.get(f"/api/v1/supplements?{query.format(id=cpts.id)}", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_statement_csv_opens_in_french_excel(client, world):
    cpts = world.cpts()
    gp = world.practitioner(cpts, last_name="=Durand")
    act(world, gp, "2020-07-20T10:00")
    act(world, gp, "2020-07-20T10:30", by_treating_doctor=True)
    ledger.accrue(today=JULY_31)
    headers = world.headers(world.user("coordinator", cpts))

    response = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07&format=csv", headers=headers)
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffRPPS;Nom;Prénom;Actes majorés;Montant (€)\r\n")
    assert text.splitlines()[1:] == [f"{gp.rpps};'=Durand;Alex;1;15,00", "Total;;;1;15,00"]

    detail = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07&format=csv&detail=1", headers=headers)
    assert detail.get_data(as_text=True).splitlines()[2].endswith(
        ";20/07/2020;10:30;116 117;non;Le praticien est le médecin traitant du patient")


def test_season_statement_spans_months_and_stops_at_the_season_bounds(client, world):
    from snp_service.models import Season

    cpts = world.cpts()
    gp = world.practitioner(cpts)
    act(world, gp, "2020-07-12T10:00")  # Sunday before the season (and PDSA anyway)
    act(world, gp, "2020-07-13T10:00")  # first day of the season
    act(world, gp, "2020-08-20T10:00")
    act(world, gp, "2020-09-10T10:00")  # last day
    act(world, gp, "2020-09-11T10:00")  # the day after
    season = Season(cpts_id=cpts.id, name="Été 2020", start_date=date(2020, 7, 13), end_date=date(2020, 9, 10))
    db.session.add(season)
    db.session.commit()
    ledger.accrue_between("test", date(2020, 7, 1), date(2020, 9, 30))
    headers = world.headers(world.user("coordinator", cpts))

    body = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&season_id={season.id}&detail=1", headers=headers).get_json()
    assert (body["season"], body["from"], body["to"], body["total_cents"]) == ("Été 2020", "2020-07-13", "2020-09-10", 4500)
    assert [a["start"][:10] for a in body["lines"][0]["acts"]] == ["2020-07-13", "2020-08-20", "2020-09-10"]
    both = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&season_id={season.id}&month=2020-07", headers=headers)
    assert both.status_code == 422
    other = world.cpts()
    elsewhere = client.get(f"/api/v1/supplements?cpts_id={other.id}&season_id={season.id}",
                           headers=world.headers(world.user("coordinator", other)))
    assert elsewhere.status_code == 404


def _weekday_morning(days_ago: int) -> str:
    """A Paris weekday 10:00 about ``days_ago`` days back, not a public holiday: an act that earns the supplement."""
    day = paris_today() - timedelta(days=days_ago)
    while day.weekday() > 4 or day in holidays.France(years=day.year):
        day -= timedelta(days=1)
    return f"{day.isoformat()}T10:00"


def test_report_indicators_and_statement_agree_at_any_time(client, world):
    """One truth for the money: the report, the indicators and the statement all read the ledger.

    An outcome recorded today reaches them all at once (the ledger is corrected in the outcome's
    transaction, not by the nightly run); a late correction beyond the recompute window changes
    none of them (the ledger of those weeks is closed).
    """
    cpts = world.cpts()
    gp = world.gp(cpts)
    coordinator = world.headers(world.user("coordinator", cpts))
    gp_headers = world.headers(gp)
    recent = act(world, gp.practitioner, _weekday_morning(3), outcome=None)
    old = act(world, gp.practitioner, _weekday_morning(100), outcome=None)

    def figures(booking):
        day = to_paris(booking.slot.start_at).date()
        month = f"{day:%Y-%m}"
        first, last = date(day.year, day.month, 1), month_end(day.year, day.month)
        report = client.get(f"/api/v1/reports/fill-rate?cpts_id={cpts.id}&from={first}&to={last}",
                            headers=coordinator).get_json()["summary"]["supplement_cents"]
        statement = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month={month}",
                               headers=coordinator).get_json()["total_cents"]
        indicator = next(row for row in indicators.read(cpts.id, month)["indicators"] if row["code"] == "supplement_cents")
        return report, statement, indicator["value"]

    assert figures(recent) == (0, 0, 0)
    honored = client.post(f"/api/v1/bookings/{recent.id}/outcome", json={"outcome": "honored"}, headers=gp_headers)
    assert honored.status_code == 200
    assert figures(recent) == (1500, 1500, 1500)  # before any nightly run

    # The old act was honored and accrued at the time; 100 days later the coordination corrects its outcome
    # (a GP corrects only on the day: booking.outcome_correctable).
    old.outcome = "honored"
    db.session.commit()
    old_day = to_paris(old.slot.start_at).date()
    ledger.accrue_between("job:accrue_supplements", old_day, old_day)
    assert figures(old) == (1500, 1500, 1500)
    corrected = client.post(f"/api/v1/bookings/{old.id}/outcome", json={"outcome": "no_show"}, headers=coordinator)
    assert corrected.status_code == 200
    assert figures(old) == (1500, 1500, 1500)  # closed: the ledger keeps what was accrued, and so does the report
    ledger.accrue()  # the nightly run changes nothing either
    assert figures(old) == (1500, 1500, 1500) and figures(recent) == (1500, 1500, 1500)


@pytest.mark.parametrize("moves", [1, 2])
def test_a_move_cannot_turn_an_act_booked_too_early_eligible(world, moves):
    """The 48-hour rule (the only one that reads the booking time) counts from the chain's first booking."""
    from snp_service.bookings import booking as bookings

    cpts = world.cpts()
    gp = world.practitioner(cpts)
    regulator = world.user("regulator", cpts)
    early = act(world, gp, "2030-07-08T10:00", booked_before=timedelta(hours=72), outcome=None)
    timely = act(world, gp, "2030-07-08T11:00", booked_before=timedelta(hours=20), outcome=None)  # still < 48 h moved
    moved = {}
    for original, targets in ((early, ["2030-07-10T10:00", "2030-07-10T10:30"]),
                              (timely, ["2030-07-09T10:00", "2030-07-09T10:30"])):
        current = original
        for local in targets[:moves]:
            current = bookings.move(regulator, current.id, world.slot(gp, paris(local)).id, notify_patient=False)
            # The move itself happens two hours before the new slot: the new row's own time is within 48 h.
            current.created_at = current.slot.start_at - timedelta(hours=2)
        current.outcome = "honored"
        db.session.commit()
        moved[original.id] = current

    ledger.accrue(today=date(2030, 7, 12))

    assert verdicts(cpts, "2030-07") == {moved[early.id].id: "delay_over_48h", moved[timely.id].id: None}
    assert moved[early.id].first_booked_at == early.created_at
    assert (moved[early.id].replaces_booking_id is not None) and (moves == 1) == (moved[early.id].replaces_booking_id == early.id)
