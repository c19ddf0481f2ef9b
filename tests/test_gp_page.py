"""The GP page through HTTP: the preview is the publish's dry run, refusals keep the form, outcomes corrected the
same day only, the GP's own supplement line; and the coordinator's statement page."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today, utcnow
from snp_service.models import AuditEvent, Season, Slot
from snp_service.slots import publishing
from snp_service.slots.preview import plan_request
from snp_service.supplements import ledger

from .factories import sign_in_form
from .supplement_helpers import act


def last_sunday(year: int, month: int) -> date:
    return max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)


def slot_count(practitioner) -> int:
    return db.session.scalar(select(func.count(Slot.id)).where(Slot.practitioner_id == practitioner.id))


@pytest.fixture
def gp(world, app):
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    return world.gp(world.cpts())


def block(day: date, start: str, end: str, minutes: int = 15) -> dict:
    return {"block-day": day.isoformat(), "block-start": start, "block-end": end, "block-slot_minutes": str(minutes),
            "block-mode": "office"}


@pytest.mark.parametrize("month, count, note", [
    (3, 8, "passage à l'heure d'été : de 01:00 à 04:00 il s'écoule 2 h et non 3 h, soit 8 créneaux au lieu de 12."),
    (10, 16, "passage à l'heure d'hiver : de 01:00 à 04:00 il s'écoule 4 h et non 3 h, soit 16 créneaux au lieu de 12."),
])
def test_preview_of_a_night_block_on_a_daylight_saving_day_counts_what_is_published(client, gp, month, count, note):
    token = sign_in_form(client, gp)
    day = last_sunday(paris_today().year + 1, month)
    form = block(day, "01:00", "04:00") | {"csrf_token": token}

    preview = client.post("/gp/preview/block", data=form).get_json()
    assert preview["count"] == count and preview["submit"] == f"Publier {count} créneaux"
    assert preview["notes"] == [f"Le {day:%d/%m}, {note}"]

    assert client.post("/gp/block", data=form).status_code == 302
    assert slot_count(gp.practitioner) == count
    # Published now, the same request previews the overlap the publish would meet.
    again = client.post("/gp/preview/block", data=form).get_json()
    assert "count" not in again and "chevauche" in again["errors"]["block-start"]


def test_a_series_on_any_weekdays_previews_and_publishes_the_same_slots(client, gp):
    token = sign_in_form(client, gp)
    monday = paris_today() + timedelta(days=7 - paris_today().weekday())
    form = {"csrf_token": token, "series-weekdays": ["MO", "TH"], "series-start": "17:00", "series-block_minutes": "60",
            "series-slot_minutes": "20", "series-first_day": monday.isoformat(),
            "series-last_day": (monday + timedelta(weeks=5, days=3)).isoformat(), "series-mode": "office"}
    preview = client.post("/gp/preview/series", data=form).get_json()
    assert preview["count"] == 36 and preview["summary"].startswith("36 créneaux sur 12 jours : lun. ")
    assert client.post("/gp/series", data=form).status_code == 302
    assert slot_count(gp.practitioner) == 36

    page = client.get("/gp").get_data(as_text=True)
    assert 'name="series-weekdays"' in page and not re.search(r'name="series-weekdays"[^>]*required', page)


def test_plan_and_publish_agree_across_the_spring_change(ctx, gp):
    year = paris_today().year + 1
    sunday = last_sunday(year, 3)
    request = {"series": {"first_start": datetime.combine(sunday - timedelta(days=7), datetime.min.time()).replace(hour=17),
                          "block_minutes": 60, "slot_minutes": 15,
                          "rrule": f"FREQ=WEEKLY;BYDAY=SU;UNTIL={sunday + timedelta(days=7):%Y%m%d}T235959"}}
    plan = plan_request(gp.practitioner, request)
    assert len(plan.intervals) == 12 and plan.notes == []  # 17:00 blocks never straddle the change
    assert len(publishing.publish_request(gp, gp.practitioner, request)) == len(plan.intervals)


def test_a_refused_publish_comes_back_with_the_values_and_the_reason_by_the_field(client, gp):
    token = sign_in_form(client, gp)
    yesterday = paris_today() - timedelta(days=1)
    answer = client.post("/gp/block", data=block(yesterday, "10:00", "11:00", 20) | {"csrf_token": token})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert f'id="block-day" name="block-day" required type="date" value="{yesterday.isoformat()}"' in page
    assert 'value="10:00"' in page and 'value="11:00"' in page and '<option selected value="20">' in page
    error = re.search(r'<p class="field-error" id="block-day-error">([^<]+)</p>', page)
    assert error and "est déjà passé" in error[1]
    assert 'aria-invalid="true"' in page and '<details class="quick" data-kind="block" open>' in page
    assert slot_count(gp.practitioner) == 0

    no_day = {"csrf_token": token, "series-start": "18:30", "series-block_minutes": "60", "series-slot_minutes": "15",
              "series-first_day": paris_today().isoformat(), "series-last_day": paris_today().isoformat()}
    answer = client.post("/gp/series", data=no_day)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Choisissez au moins un jour de la semaine" in page
    assert "règle de récurrence" not in page and 'value="18:30"' in page


def test_outcome_is_corrected_the_same_day_and_audited(client, world, gp):
    token = sign_in_form(client, gp)
    today = world.booking(world.slot(gp.practitioner, utcnow() - timedelta(minutes=1)))
    earlier = world.booking(world.slot(gp.practitioner, utcnow() - timedelta(days=2)))
    for booking, outcome in ((today, "honored"), (today, "no_show"), (earlier, "honored")):
        assert client.post(f"/gp/bookings/{booking.id}/outcome",
                           data={"csrf_token": token, "outcome": outcome}).status_code == 302
    db.session.expire_all()
    assert (today.outcome, earlier.outcome) == ("no_show", "honored")
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.outcome",
                                                        AuditEvent.object_id == today.id).order_by(AuditEvent.id)).all()
    assert [(e.before, e.after) for e in audit] == [
        ({"outcome": None}, {"outcome": "honored", "correction": False}),
        ({"outcome": "honored"}, {"outcome": "no_show", "correction": True})]

    # Two days later the GP's correction is refused; the coordination may still correct.
    late = client.post(f"/api/v1/bookings/{earlier.id}/outcome", json={"outcome": "no_show"},
                       headers=world.headers(gp))
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "outcome_closed"
    coordinator = world.user("coordinator", gp.practitioner.cpts[0])
    assert client.post(f"/api/v1/bookings/{earlier.id}/outcome", json={"outcome": "no_show"},
                       headers=world.headers(coordinator)).status_code == 200
    page = client.get("/gp").get_data(as_text=True)
    assert "Corriger : vu" in page and "Corriger : absent" not in page


def test_the_gp_page_shows_their_own_supplement_line_only(client, world):
    cpts = world.cpts()
    gp = world.gp(cpts, last_name="Durand")
    other = world.practitioner(cpts, last_name="Martin")
    mine = act(world, gp.practitioner, "2020-07-20T10:00")
    excluded = act(world, gp.practitioner, "2020-07-20T21:00")
    theirs = act(world, other, "2020-07-21T10:00")
    ledger.accrue(today=date(2020, 7, 31))
    sign_in_form(client, gp)
    page = client.get("/gp?month=2020-07").get_data(as_text=True)
    assert "Juillet 2020 : 15,00\xa0€" in page
    assert f'data-booking-id="{mine.id}"' in page and f'data-booking-id="{excluded.id}"' in page
    assert "Heures de permanence des soins" in page
    assert f'data-booking-id="{theirs.id}"' not in page and "Martin" not in page
    assert client.get(f"/coordination/supplements?cpts_id={cpts.id}").status_code == 403


def test_the_statement_page_filters_a_month_or_a_season(client, world):
    cpts = world.cpts("CPTS Littoral")
    gp = world.practitioner(cpts, last_name="Durand")
    july, august = act(world, gp, "2020-07-20T10:00"), act(world, gp, "2020-08-03T10:00", by_treating_doctor=True)
    ledger.accrue_between("test", date(2020, 7, 1), date(2020, 8, 31))
    season = Season(cpts_id=cpts.id, name="Été 2020", start_date=date(2020, 7, 13), end_date=date(2020, 9, 10))
    db.session.add(season)
    db.session.commit()
    sign_in_form(client, world.user("coordinator", cpts))

    page = client.get(f"/coordination/supplements?cpts_id={cpts.id}&month=2020-07").get_data(as_text=True)
    assert "CPTS Littoral · juillet 2020" in page and "Total : 15,00\xa0€" in page
    assert f'data-booking-id="{july.id}"' in page and f'data-booking-id="{august.id}"' not in page
    excel = re.search(r'href="([^"]+)">Classeur Excel', page)[1]
    assert excel.startswith("/api/v1/supplements?") and {"format=xlsx", f"cpts_id={cpts.id}", "month=2020-07"} <= set(
        excel.split("?")[1].split("&amp;"))
    season_page = client.get(f"/coordination/supplements?season_id={season.id}").get_data(as_text=True)
    assert "Été 2020 (du 13/07/2020 au 10/09/2020)" in season_page
    assert f'data-booking-id="{august.id}"' in season_page and "médecin traitant du patient" in season_page
    bad = client.get(f"/coordination/supplements?cpts_id={cpts.id}&month=2020-13")
    assert bad.status_code == 422 and "Mois invalide" in bad.get_data(as_text=True)


def test_dashboard_lists_members_by_commune_name(client, world):
    cpts = world.cpts(communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.69, -1.94),
                                ("85234", "Saint-Jean-de-Monts", 46.79, -2.06)))
    world.practitioner(cpts, last_name="Zola", commune_insee="85222")
    world.practitioner(cpts, last_name="Abel", commune_insee="85234")
    sign_in_form(client, world.user("coordinator", cpts))
    page = client.get("/coordination").get_data(as_text=True)
    members = page[page.index('id="members"'):page.index('id="comptes"')]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>Dr Alex (\w+)</td>", members)
    assert rows == [("Saint-Gilles-Croix-de-Vie", "Zola"), ("Saint-Jean-de-Monts", "Abel")]
    assert "85222" not in members


def _series(first: date, last: date, start: str = "17:00", days=("MO",)) -> dict:
    return {"series-weekdays": list(days), "series-start": start, "series-block_minutes": "60", "series-slot_minutes": "15",
            "series-first_day": first.isoformat(), "series-last_day": last.isoformat(), "series-mode": "office"}


@pytest.mark.parametrize("kind, form, field, words", [
    ("block", lambda today: block(today + timedelta(days=500), "10:00", "11:00"), "block-day", "jours à l'avance"),
    ("block", lambda today: block(today + timedelta(days=1), "11:00", "10:00"), "block-end", "après son début"),
    ("block", lambda today: block(today + timedelta(days=1), "10:00", "10:50"), "block-slot_minutes", "ne se découpe pas"),
    ("series", lambda today: _series(today + timedelta(days=1), today + timedelta(days=500), days=("MO", "TH")),
     "series-last_day", "jours à l'avance"),
    ("series", lambda today: _series(last_sunday(today.year + 1, 3) - timedelta(days=7), last_sunday(today.year + 1, 3),
                                     start="02:30", days=("SU",)), "series-start", "n'existe pas"),
    ("series", lambda today: _series(today + timedelta(days=9), today + timedelta(days=1)), "series-last_day",
     "doit suivre le premier"),
])
def test_each_refusal_is_shown_next_to_the_field_it_is_about(client, gp, kind, form, field, words):
    token = sign_in_form(client, gp)
    answer = client.post(f"/gp/preview/{kind}", data=form(paris_today()) | {"csrf_token": token}).get_json()
    assert list(answer["errors"]) == [field] and words in answer["errors"][field]
    page = client.post(f"/gp/{kind}", data=form(paris_today()) | {"csrf_token": token})
    assert page.status_code == 422
    assert re.search(rf'<p class="field-error" id="{field}-error">[^<]*{re.escape(words)}',
                     html.unescape(page.get_data(as_text=True)))


def test_a_series_over_an_occupied_day_lists_the_clash_and_publishes_the_rest_in_one_tap(client, world, gp):
    """Issue 24: Monday + Thursday over a week whose Thursday already holds a slot."""
    token = sign_in_form(client, gp)
    monday = paris_today() + timedelta(days=7 - paris_today().weekday())
    thursday = monday + timedelta(days=3)
    world.slot(gp.practitioner, datetime.combine(thursday, datetime.min.time().replace(hour=17, minute=20),
                                                 tzinfo=PARIS))
    form = {"csrf_token": token, "series-weekdays": ["MO", "TH"], "series-start": "17:00", "series-block_minutes": "60",
            "series-slot_minutes": "20", "series-first_day": monday.isoformat(),
            "series-last_day": (monday + timedelta(weeks=1, days=3)).isoformat(), "series-mode": "office"}

    preview = client.post("/gp/preview/series", data=form).get_json()
    assert preview["clashing"] == f"Jours déjà occupés : jeu. {thursday:%d/%m}."
    assert preview["skip_submit"] == "Publier sans les jours déjà occupés (9 créneaux)" and preview["count"] == 9
    assert client.post("/gp/series", data=form).status_code == 422  # all or nothing by default
    assert slot_count(gp.practitioner) == 1

    published = client.post("/gp/series", data=form | {"on_conflict": "skip"})
    assert published.status_code == 302 and slot_count(gp.practitioner) == 10
    flashed = client.get(published.headers["Location"]).get_data(as_text=True)
    assert f"jours déjà occupés laissés de côté : jeu. {thursday:%d/%m}" in flashed
