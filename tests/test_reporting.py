"""The fill-rate report on a hand-built season: every figure computed by hand below.

Period: Saturday 27 to Monday 29 March 2027 (Paris). Clocks go forward on Sunday 28
at 02:00 (01:00 UTC): that day has 23 hours.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, UTC
from snp_service.models import Season
from snp_service.reporting import fill_rate
from snp_service.supplements import ledger

ST_GILLES, ST_JEAN = ("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428), ("85234", "Saint-Jean-de-Monts", 46.79, -2.06)
START, END = date(2027, 3, 27), date(2027, 3, 29)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book(world, slot, *, channel="116117", treating="no", outcome=None, status="booked", booked_at=None):
    booking = world.booking(slot, channel=channel, status=status)
    booking.has_treating_doctor = treating
    booking.outcome = outcome
    booking.created_at = booked_at or slot.start_at - timedelta(days=5)
    world.save_changes()
    return booking


@pytest.fixture
def season(world):
    """CPTS A: Dr One (Saint-Gilles) and Dr Two (Saint-Jean); CPTS B: Dr Three, whose slots never count for A."""
    with world.batch():  # one commit, before the ledger (a service) reads it
        a = world.cpts("CPTS A", communes=(ST_GILLES, ST_JEAN))
        b = world.cpts("CPTS B")
        one = world.practitioner(a, commune_insee="85222")
        two = world.practitioner(a, commune_insee="85234")
        three = world.practitioner(b)
        slots = {}

        def slot(name, practitioner, start, **kwargs):
            slots[name] = world.slot(practitioner, start, **kwargs)
            return slots[name]

        # Saturday 27: 10:00 booked 116117, honoured, within 48 h and outside PDSA hours: earns €15.
        book(world, slot("sat_10", one, paris(2027, 3, 27, 10, 0)), outcome="honored", booked_at=paris(2027, 3, 27, 8))
        # Saturday 23:50 to Sunday 00:10: across midnight, counts on the day it starts. SAS, no-show.
        book(world, slot("sat_2350", one, paris(2027, 3, 27, 23, 50), minutes=20), channel="sas", treating="yes",
             outcome="no_show")
        # Saturday 00:00 Paris is Friday 23:00 UTC: inside the period, hour 0.
        slot("sat_0000", one, paris(2027, 3, 27, 0, 0), status="expired")
        # Friday 23:45 Paris: before the period.
        book(world, slot("fri_2345", one, paris(2027, 3, 26, 23, 45)), outcome="honored")
        # Sunday 00:30 Paris (Saturday 23:30 UTC): Sunday, hour 0; never booked.
        slot("sun_0030", one, paris(2027, 3, 28, 0, 30), status="expired")
        # Sunday 03:30 summer time (01:30 UTC): hour 3, not 2. Cancelled then booked again: filled once.
        cancelled_then_rebooked = slot("sun_0330", one, paris(2027, 3, 28, 3, 30))
        book(world, cancelled_then_rebooked, channel="116117", status="cancelled")
        book(world, cancelled_then_rebooked, channel="15", outcome="honored")
        # Sunday 10:00 withdrawn: never offered. Sunday 10:15: its only booking was cancelled.
        slot("sun_withdrawn", two, paris(2027, 3, 28, 10, 0), status="withdrawn")
        book(world, slot("sun_1015", two, paris(2027, 3, 28, 10, 15)), status="cancelled")
        # Monday 29: 09:00 booked by "other", no outcome yet; 23:30 free.
        book(world, slot("mon_0900", two, paris(2027, 3, 29, 9, 0)), channel="other", treating="unknown")
        slot("mon_2330", two, paris(2027, 3, 29, 23, 30), status="expired")
        # Tuesday 00:10 Paris is Monday 22:10 UTC: after the period.
        book(world, slot("tue_0010", one, paris(2027, 3, 30, 0, 10)))
        # Another CPTS's practitioner.
        book(world, slot("other_cpts", three, paris(2027, 3, 28, 10, 0)), outcome="honored")
    ledger.accrue_between("test", START, END)  # the ledger, as the nightly run leaves it
    return {"a": a, "b": b, "one": one, "two": two, "three": three, "slots": slots}


def test_summary_figures_by_hand(season):
    summary = fill_rate.summary([season["a"].id], START, END)

    # Offered: sat_10, sat_2350, sat_0000, sun_0030, sun_0330, sun_1015, mon_0900, mon_2330 = 8.
    # Filled: sat_10, sat_2350, sun_0330 (once), mon_0900 = 4.
    assert summary == {
        "offered": 8,
        "filled": 4,
        "fill_rate": 0.5,
        "avg_offered_per_day": 2.67,  # 8 / 3 days
        "practitioners": 2,
        "bookings_by_channel": {"116117": 1, "sas": 1, "15": 1, "other": 1},
        "share_without_treating_doctor": 0.5,  # sat_10 and sun_0330's active booking: 2 / 4
        "no_show_rate": 0.3333,  # 1 no-show / (2 honoured + 1 no-show)
        "regulated_acts": 2,  # sat_10 (116117) and sun_0330 (15), both honoured
        "supplement_cents": 1500,  # sun_0330 is on a Sunday (PDSA): only sat_10 earns €15
        "requests_sent": 0, "requests_accepted": 0, "requests_expired": 0, "median_minutes_to_accept": None,
        "patient_cancellations": 0,  # the two cancelled bookings were not the patient's
        "confirmed_share": 0.0, "no_show_rate_confirmed": None, "no_show_rate_unconfirmed": 0.3333,
    }
    assert list(summary) == list(fill_rate.SUMMARY_KEYS)


def test_patient_figures_count_their_cancels_confirmations_and_no_shows_of_each(season, world):
    """Issue 24: cancelled by the patient, the share confirmed from their link, the no-show rate of confirmed
    bookings against the others."""
    one, slots = season["one"], season["slots"]
    cancelled = world.booking(world.slot(one, paris(2027, 3, 29, 11, 0)), status="cancelled")
    cancelled.cancelled_by = "patient"
    for name in ("sat_10", "sat_2350"):  # the honoured one and the no-show
        db.session.query(type(cancelled)).filter_by(slot_id=slots[name].id, status="booked").one().confirmed_at = \
            paris(2027, 3, 27, 9)
    confirmed_no_show = world.booking(world.slot(one, paris(2027, 3, 29, 12, 0)))
    confirmed_no_show.outcome, confirmed_no_show.confirmed_at = "no_show", paris(2027, 3, 29, 10)
    db.session.commit()

    summary = fill_rate.summary([season["a"].id], START, END)

    assert summary["patient_cancellations"] == 1
    assert summary["confirmed_share"] == 0.6  # 3 confirmed of the 5 filled
    assert summary["no_show_rate_confirmed"] == 0.6667  # 2 no-shows / (1 honoured + 2 no-shows)
    assert summary["no_show_rate_unconfirmed"] == 0.0  # sun_0330 honoured, mon_0900 without outcome
    assert summary["no_show_rate"] == 0.5


def test_empty_period_has_no_rate(season):
    summary = fill_rate.summary([season["a"].id], date(2027, 1, 1), date(2027, 1, 10))

    assert (summary["offered"], summary["filled"], summary["fill_rate"], summary["avg_offered_per_day"]) == (0, 0, None, 0)
    assert summary["no_show_rate"] is None and summary["share_without_treating_doctor"] is None


def test_breakdown_by_paris_day_across_midnight_and_the_spring_change(season):
    rows = fill_rate.breakdown([season["a"].id], START, END, "day")

    assert rows == [
        {"key": "2027-03-27", "offered": 3, "filled": 2, "fill_rate": 0.6667},  # sat_0000, sat_10, sat_2350
        {"key": "2027-03-28", "offered": 3, "filled": 1, "fill_rate": 0.3333},  # sun_0030, sun_0330, sun_1015
        {"key": "2027-03-29", "offered": 2, "filled": 1, "fill_rate": 0.5},
    ]


def test_breakdown_by_week_weekday_and_hour(season):
    cpts = [season["a"].id]

    assert fill_rate.breakdown(cpts, START, END, "week") == [
        {"key": "2027-W12", "offered": 6, "filled": 3, "fill_rate": 0.5},
        {"key": "2027-W13", "offered": 2, "filled": 1, "fill_rate": 0.5},
    ]
    assert fill_rate.breakdown(cpts, START, END, "weekday") == [
        {"key": 1, "offered": 2, "filled": 1, "fill_rate": 0.5},
        {"key": 6, "offered": 3, "filled": 2, "fill_rate": 0.6667},
        {"key": 7, "offered": 3, "filled": 1, "fill_rate": 0.3333},
    ]
    assert fill_rate.breakdown(cpts, START, END, "hour") == [
        {"key": 0, "offered": 2, "filled": 0, "fill_rate": 0.0},  # sat_0000, sun_0030
        {"key": 3, "offered": 1, "filled": 1, "fill_rate": 1.0},  # sun_0330 in summer time
        {"key": 9, "offered": 1, "filled": 1, "fill_rate": 1.0},
        {"key": 10, "offered": 2, "filled": 1, "fill_rate": 0.5},  # sat_10, sun_1015
        {"key": 23, "offered": 2, "filled": 1, "fill_rate": 0.5},  # sat_2350, mon_2330
    ]


def test_breakdown_by_practitioner_and_commune(season):
    cpts = [season["a"].id]
    one, two = season["one"], season["two"]

    by_practitioner = fill_rate.breakdown(cpts, START, END, "practitioner")
    assert [(r["key"], r["offered"], r["filled"], r["fill_rate"], r["rpps"]) for r in by_practitioner] == [
        (one.id, 5, 3, 0.6, one.rpps), (two.id, 3, 1, 0.3333, two.rpps)]
    assert by_practitioner[0]["label"] == one.display_name

    assert fill_rate.breakdown(cpts, START, END, "commune") == [
        {"key": "85222", "offered": 5, "filled": 3, "fill_rate": 0.6, "label": "Saint-Gilles-Croix-de-Vie"},
        {"key": "85234", "offered": 3, "filled": 1, "fill_rate": 0.3333, "label": "Saint-Jean-de-Monts"},
    ]


def test_a_practitioner_of_two_cpts_counts_in_each_and_once_in_both(world, season):
    a, b, two = season["a"], season["b"], season["two"]
    two.cpts = [a, b]
    db.session.commit()

    assert fill_rate.summary([b.id], START, END)["offered"] == 4  # Dr Three's slot + Dr Two's three
    assert fill_rate.summary([a.id, b.id], START, END)["offered"] == 9  # not 12


def test_autumn_change_day_has_25_hours(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    utc = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    world.slot(gp, utc(2027, 10, 30, 21, 30))  # Saturday 23:30 summer time
    world.slot(gp, utc(2027, 10, 31, 0, 30))   # Sunday 02:30 summer time
    world.slot(gp, utc(2027, 10, 31, 1, 30))   # Sunday 02:30 winter time (the hour happens twice)
    world.slot(gp, utc(2027, 10, 31, 22, 30))  # Sunday 23:30 winter time
    world.slot(gp, utc(2027, 10, 31, 23, 30))  # Monday 00:30

    start, end = date(2027, 10, 30), date(2027, 10, 31)
    assert [(r["key"], r["offered"]) for r in fill_rate.breakdown([cpts.id], start, end, "day")] == [
        ("2027-10-30", 1), ("2027-10-31", 3)]
    assert [(r["key"], r["offered"]) for r in fill_rate.breakdown([cpts.id], start, end, "hour")] == [
        (2, 2), (23, 2)]


def test_days_without_offer_still_appear_in_the_daily_series(world):
    cpts = world.cpts()
    world.slot(world.practitioner(cpts), paris(2027, 7, 14, 10, 0))

    rows = fill_rate.breakdown([cpts.id], date(2027, 7, 13), date(2027, 7, 15), "day")

    assert [(r["key"], r["offered"], r["fill_rate"]) for r in rows] == [
        ("2027-07-13", 0, None), ("2027-07-14", 1, 0.0), ("2027-07-15", 0, None)]


def test_fill_rate_by_channel_counts_each_channels_bookings_over_every_offered_slot(season, client, world):
    """An offered slot has no channel: each channel's rate is its filled slots over all the offered ones."""
    expected = [{"key": channel, "offered": 8, "filled": 1, "fill_rate": 0.125} for channel in ("116117", "sas", "15", "other")]
    assert fill_rate.breakdown([season["a"].id], START, END, "channel") == expected
    assert sum(row["fill_rate"] for row in expected) == fill_rate.summary([season["a"].id], START, END)["fill_rate"]

    headers = world.headers(world.user("coordinator", season["a"]))
    answer = client.get(f"/api/v1/reports/fill-rate?cpts_id={season['a'].id}&from={START}&to={END}&group_by=channel",
                        headers=headers)
    assert answer.status_code == 200 and answer.get_json()["breakdown"] == expected
    season_row = Season(cpts_id=season["a"].id, name="Printemps", start_date=START, end_date=END)
    db.session.add(season_row)
    db.session.commit()
    report = client.get(f"/api/v1/seasons/{season_row.id}/report?group_by=channel", headers=headers).get_json()
    assert report["breakdown"] == expected and report["breakdowns"]["channel"] == expected
    workbook = client.get(f"/api/v1/seasons/{season_row.id}/report?format=xlsx", headers=headers)
    assert workbook.status_code == 200


def test_full_report_agrees_with_its_parts(season):
    report = fill_rate.full_report([season["a"].id], START, END)

    assert report["summary"]["offered"] == 8
    assert report["breakdowns"]["channel"] == fill_rate.breakdown([season["a"].id], START, END, "channel")
    for group_by in set(fill_rate.GROUPINGS) - {"channel"}:  # channel rows each count every offered slot
        rows = report["breakdowns"][group_by]
        assert sum(r["offered"] for r in rows) == 8, group_by
        assert sum(r["filled"] for r in rows) == 4, group_by


def test_offered_by_commune_lists_communes_without_offer(season):
    rows = fill_rate.offered_by_commune(season["a"].id, date(2027, 3, 29))

    assert rows == [{"insee": "85222", "name": "Saint-Gilles-Croix-de-Vie", "offered": 0},
                    {"insee": "85234", "name": "Saint-Jean-de-Monts", "offered": 2}]


def test_regulated_channels_are_configuration_for_the_report_too(season, app):
    """SPEC: rules are configuration. A channel taken out of the rules no longer makes regulated acts anywhere."""
    app.config["SUPPLEMENT_RULES"] = app.config["SUPPLEMENT_RULES"] | {"channels": ["116117"]}
    assert fill_rate.summary([season["a"].id], START, END)["regulated_acts"] == 1  # sun_0330 came through the 15
