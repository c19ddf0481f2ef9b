"""The iCalendar feed: parsed back it gives the same slots; minimal patient data; the token rotates."""
from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
from flask_migrate import upgrade
from sqlalchemy import event, text

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Practitioner
from tests.factories import PASSWORD


@pytest.fixture
def cpts(world):
    return world.cpts()


@pytest.fixture
def gp(world, cpts):
    return world.gp(cpts)


def feed_path(client, world, user, practitioner_id) -> str:
    body = client.get(f"/api/v1/practitioners/{practitioner_id}", headers=world.headers(user)).get_json()
    return body["calendar_url"].split("://", 1)[1].split("/", 1)[1]


def test_feed_parsed_back_gives_the_same_slots(client, world, gp):
    soon = utcnow().replace(second=0, microsecond=0) + timedelta(hours=3)
    free = world.slot(gp.practitioner, soon)
    booked = world.slot(gp.practitioner, soon + timedelta(hours=1))
    world.booking(booked, first_name="jeanne", last_name="Durand", phone="+33611223344")
    past = world.slot(gp.practitioner, soon - timedelta(days=10), status="expired")
    world.slot(gp.practitioner, soon + timedelta(hours=2), status="withdrawn")
    world.slot(gp.practitioner, soon - timedelta(days=40), status="expired")
    world.slot(gp.practitioner, soon + timedelta(days=130))
    world.slot(world.practitioner(gp.practitioner.cpts[0]), soon)

    response = client.get("/" + feed_path(client, world, gp, gp.practitioner_id))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar" and response.headers["Cache-Control"] == "no-store"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"slot-{s.id}@127.0.0.1" for s in (free, booked, past)}
    for slot in (free, booked, past):
        event = events[f"slot-{slot.id}@127.0.0.1"]
        assert event.decoded("DTSTART") == slot.start_at and event.decoded("DTEND") == slot.end_at
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(events[f"slot-{free.id}@127.0.0.1"]["SUMMARY"]) == "SNP — créneau libre"
    assert str(events[f"slot-{booked.id}@127.0.0.1"]["SUMMARY"]) == "SNP — JD"
    text = response.data.decode()
    assert "Durand" not in text and "jeanne" not in text and "+33611223344" not in text
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_uids_are_stable_between_fetches(client, world, gp):
    slot = world.slot(gp.practitioner)
    path = "/" + feed_path(client, world, gp, gp.practitioner_id)
    first = icalendar.Calendar.from_ical(client.get(path).data).walk("VEVENT")[0]
    world.booking(slot)
    second = icalendar.Calendar.from_ical(client.get(path).data).walk("VEVENT")[0]
    assert first["UID"] == second["UID"] and first["SUMMARY"] != second["SUMMARY"]


def test_feed_is_also_served_under_the_api_prefix(client, world, gp):
    world.slot(gp.practitioner)
    path = feed_path(client, world, gp, gp.practitioner_id)
    token = path.rsplit("/", 1)[1]
    response = client.get(f"/api/v1/calendar/{token}")
    assert response.status_code == 200 and b"BEGIN:VEVENT" in response.data


def test_rotation_kills_the_old_url_at_once(client, world, gp):
    old = "/" + feed_path(client, world, gp, gp.practitioner_id)
    assert client.get(old).status_code == 200
    response = client.post(f"/api/v1/practitioners/{gp.practitioner_id}/calendar-token", headers=world.headers(gp))
    assert response.status_code == 200
    new = "/" + response.get_json()["calendar_url"].split("://", 1)[1].split("/", 1)[1]
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_calendar_url_only_for_the_practitioner_and_a_coordinator(client, world, cpts, gp):
    own = client.get(f"/api/v1/practitioners/{gp.practitioner_id}", headers=world.headers(gp)).get_json()
    assert own["calendar_url"].startswith("http://127.0.0.1:5000/calendar/") and own["calendar_url"].endswith(".ics")
    coordinator = client.get(f"/api/v1/practitioners/{gp.practitioner_id}",
                             headers=world.headers(world.user("coordinator", cpts))).get_json()
    assert coordinator["calendar_url"] == own["calendar_url"]
    admin = client.get(f"/api/v1/practitioners/{gp.practitioner_id}", headers=world.headers(world.user("admin")))
    assert admin.status_code == 200 and "calendar_url" not in admin.get_json()
    other_gp = world.gp(cpts)
    assert client.get(f"/api/v1/practitioners/{gp.practitioner_id}", headers=world.headers(other_gp)).status_code == 404
    rotate = client.post(f"/api/v1/practitioners/{gp.practitioner_id}/calendar-token", headers=world.headers(other_gp))
    assert rotate.status_code == 404
    regulator = world.headers(world.user("regulator", cpts))
    assert client.post(f"/api/v1/practitioners/{gp.practitioner_id}/calendar-token", headers=regulator).status_code == 403


def test_calendar_url_uses_the_public_url(client, world, gp, app):
    app.config["PUBLIC_URL"] = "https://snp.cpts-lv.fr/"
    body = client.get(f"/api/v1/practitioners/{gp.practitioner_id}", headers=world.headers(gp)).get_json()
    assert body["calendar_url"].startswith("https://snp.cpts-lv.fr/calendar/")


def test_long_names_with_commas_are_escaped_and_folded(client, world, cpts):
    gp = world.gp(cpts, last_name="De La Fontaine-Saint-Exupéry, Martin; dit « le Docteur des Dunes »")
    world.slot(gp.practitioner)
    raw = client.get("/" + feed_path(client, world, gp, gp.practitioner_id)).data
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(raw)
    # icalendar unfolds X- properties but leaves their TEXT escapes in place.
    escaped = gp.practitioner.display_name.replace(",", "\\,").replace(";", "\\;")
    assert str(calendar["X-WR-CALNAME"]) == f"SNP — {escaped}"


@pytest.fixture
def writes(app):
    """The INSERT, UPDATE and DELETE statements the database receives."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_reading_the_gp_page_or_a_practitioner_writes_nothing(client, world, cpts, gp, writes):
    """The feed's secret exists from the practitioner's creation: a GET never has to make it."""
    headers = world.headers(gp)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": gp.email, "password": PASSWORD, "csrf_token": csrf.group(1)})
    writes.clear()
    page = client.get("/gp")
    card = client.get(f"/api/v1/practitioners/{gp.practitioner_id}", headers=headers)
    assert page.status_code == 200 and card.status_code == 200
    assert writes == []
    assert card.get_json()["calendar_url"].split("/calendar/")[1] in page.get_data(as_text=True)


def test_a_practitioner_created_through_the_api_has_a_feed_at_once(client, world, cpts):
    coordinator = world.headers(world.user("coordinator", cpts))
    created = client.post("/api/v1/practitioners", headers=coordinator, json={
        "cpts_ids": [cpts.id], "rpps": "10987654323", "first_name": "Lou", "last_name": "Neuf"})
    assert created.status_code == 201
    token = db.session.get(Practitioner, created.get_json()["id"]).calendar_token
    assert token and len(token) >= 32
    assert client.get(f"/calendar/{token}.ics").status_code == 200


def test_migration_gives_existing_practitioners_a_feed_token(empty_database_url):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="9d41c2e7a8b3")  # before practitioners were given their token at creation
        for rpps in ("10000000001", "10000000002"):
            db.session.execute(text("INSERT INTO practitioner (rpps, first_name, last_name, profession, created_at) "
                                    "VALUES (:rpps, 'A', 'B', 'gp', CURRENT_TIMESTAMP)"), {"rpps": rpps})
        db.session.commit()
        upgrade()
        tokens = db.session.scalars(text("SELECT calendar_token FROM practitioner")).all()
        db.session.remove()
        db.engine.dispose()
    assert len(tokens) == 2 and all(tokens) and len(set(tokens)) == 2
