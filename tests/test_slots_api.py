"""POST/GET/DELETE /api/v1/slots and POST /slots/import: shapes, error format, who may touch which slot."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from snp_service.core.timeutil import PARIS, paris_today, utcnow


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(paris_today() + timedelta(days=1), time(hour, minute), PARIS)


@pytest.fixture
def cpts(world):
    return world.cpts()


@pytest.fixture
def gp(world, cpts):
    return world.gp(cpts)


def test_one_slot_answers_the_slot_itself_in_paris_time(client, world, gp):
    start = tomorrow_at(14)
    response = client.post("/api/v1/slots", json={"start": start.isoformat(), "end": (start + timedelta(minutes=15)).isoformat(),
                                                  "mode": "teleconsultation"}, headers=world.headers(gp))
    assert response.status_code == 201
    body = response.get_json()
    assert body["practitioner_id"] == gp.practitioner_id and body["status"] == "free"
    assert body["mode"] == "teleconsultation" and body["count"] == 1
    assert datetime.fromisoformat(body["start"]) == start
    assert body["start"].startswith(start.strftime("%Y-%m-%dT14:00:00+0"))


def test_block_and_batch_answer_count_and_slots(client, world, gp):
    headers = world.headers(gp)
    response = client.post("/api/v1/slots", json={"block": {"start": tomorrow_at(14).isoformat(),
                                                             "end": tomorrow_at(16).isoformat(), "slot_minutes": 15}},
                           headers=headers)
    assert response.status_code == 201 and response.get_json()["count"] == 8
    batch = [{"start": tomorrow_at(18, 15 * i).isoformat(), "end": tomorrow_at(18, 15 * i + 10).isoformat()} for i in range(3)]
    response = client.post("/api/v1/slots", json={"slots": batch}, headers=headers)
    assert response.status_code == 201
    assert [s["start"] for s in response.get_json()["slots"]] == [b["start"] for b in batch]


def test_series_first_start_is_a_local_time_without_offset(client, world, gp):
    day = paris_today() + timedelta(days=2)
    series = {"first_start": f"{day.isoformat()}T17:00:00", "block_minutes": 60, "slot_minutes": 20,
              "rrule": "FREQ=DAILY;COUNT=3"}
    response = client.post("/api/v1/slots", json={"series": series}, headers=world.headers(gp))
    assert response.status_code == 201 and response.get_json()["count"] == 9
    assert {s["start"][11:16] for s in response.get_json()["slots"]} == {"17:00", "17:20", "17:40"}
    with_offset = dict(series, first_start=f"{day.isoformat()}T17:00:00+01:00")
    response = client.post("/api/v1/slots", json={"series": with_offset}, headers=world.headers(gp))
    assert response.status_code == 422 and "series" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("body, status, code", [
    ({"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T10:15:00+01:00"}, 422, "in_the_past"),
    ({"start": "2020-01-01T10:00:00", "end": "2020-01-01T10:15:00"}, 422, "validation_error"),
    ({"block": {"start": "x", "end": "y", "slot_minutes": 15}}, 422, "validation_error"),
    ({"start": "2030-01-01T10:00:00+01:00"}, 422, "validation_error"),
    ({}, 422, "validation_error"),
])
def test_bad_bodies_are_4xx_json(client, world, gp, body, status, code):
    response = client.post("/api/v1/slots", json=body, headers=world.headers(gp))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_two_shapes_at_once_and_unknown_mode_are_422(client, world, gp):
    start, end = tomorrow_at(9).isoformat(), tomorrow_at(9, 15).isoformat()
    both = {"start": start, "end": end, "block": {"start": start, "end": end, "slot_minutes": 15}}
    assert client.post("/api/v1/slots", json=both, headers=world.headers(gp)).status_code == 422
    response = client.post("/api/v1/slots", json={"start": start, "end": end, "mode": "bus"}, headers=world.headers(gp))
    assert response.status_code == 422 and "mode" in response.get_json()["error"]["fields"]


def test_beyond_horizon_is_422(client, world, gp, app):
    start = tomorrow_at(9) + timedelta(days=app.config["PUBLISH_HORIZON_DAYS"] + 2)
    response = client.post("/api/v1/slots", json={"start": start.isoformat(), "end": (start + timedelta(minutes=15)).isoformat()},
                           headers=world.headers(gp))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "beyond_horizon"


def test_overlap_is_409_naming_the_clashing_slot(client, world, gp):
    existing = world.slot(gp.practitioner, tomorrow_at(14, 30))
    response = client.post("/api/v1/slots", json={"block": {"start": tomorrow_at(14).isoformat(),
                                                             "end": tomorrow_at(15).isoformat(), "slot_minutes": 15}},
                           headers=world.headers(gp))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_overlap" and error["clashing_slot_id"] == existing.id
    assert "14:30" in error["message"]


def test_list_own_slots_with_filters(client, world, gp):
    world.slot(gp.practitioner, tomorrow_at(9))
    world.slot(gp.practitioner, tomorrow_at(10), status="withdrawn")
    world.slot(gp.practitioner, tomorrow_at(9) + timedelta(days=3))
    headers = world.headers(gp)
    assert len(client.get("/api/v1/slots", headers=headers).get_json()) == 3
    day = (paris_today() + timedelta(days=1)).isoformat()
    two_days = (paris_today() + timedelta(days=2)).isoformat()
    listed = client.get(f"/api/v1/slots?from={day}&to={two_days}&status=free", headers=headers).get_json()
    assert [s["start"][11:16] for s in listed] == ["09:00"]
    assert client.get("/api/v1/slots?from=2027-13-01", headers=headers).status_code == 422
    assert client.get(f"/api/v1/slots?from={two_days}&to={day}", headers=headers).status_code == 422


def test_gp_cannot_touch_another_gps_slots(client, world, cpts, gp):
    other = world.gp(cpts)
    theirs = world.slot(other.practitioner, tomorrow_at(9))
    headers = world.headers(gp)
    assert client.get(f"/api/v1/slots?practitioner_id={other.practitioner_id}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/slots/{theirs.id}", headers=headers).status_code == 404
    body = {"practitioner_id": other.practitioner_id, "start": tomorrow_at(11).isoformat(),
            "end": tomorrow_at(11, 15).isoformat()}
    assert client.post("/api/v1/slots", json=body, headers=headers).status_code == 404
    assert client.get("/api/v1/slots", headers=world.headers(other)).get_json()[0]["status"] == "free"


def test_coordinator_acts_within_their_cpts_only(client, world, cpts, gp):
    coordinator = world.user("coordinator", cpts)
    headers = world.headers(coordinator)
    body = {"start": tomorrow_at(11).isoformat(), "end": tomorrow_at(11, 15).isoformat()}
    response = client.post("/api/v1/slots", json=body, headers=headers)
    assert response.status_code == 422 and "practitioner_id" in response.get_json()["error"]["fields"]
    response = client.post("/api/v1/slots", json=body | {"practitioner_id": gp.practitioner_id}, headers=headers)
    assert response.status_code == 201
    assert client.delete(f"/api/v1/slots/{response.get_json()['id']}", headers=headers).get_json()["status"] == "withdrawn"
    stranger = world.gp(world.cpts())
    response = client.post("/api/v1/slots", json=body | {"practitioner_id": stranger.practitioner_id}, headers=headers)
    assert response.status_code == 404


def test_regulator_and_anonymous_cannot_publish(client, world, cpts):
    body = {"start": tomorrow_at(11).isoformat(), "end": tomorrow_at(11, 15).isoformat()}
    assert client.post("/api/v1/slots", json=body).status_code == 401
    response = client.post("/api/v1/slots", json=body, headers=world.headers(world.user("regulator", cpts)))
    assert response.status_code == 403


def test_withdraw_free_slot_then_booked_slot_is_409(client, world, gp):
    headers = world.headers(gp)
    free = world.slot(gp.practitioner, tomorrow_at(9))
    response = client.delete(f"/api/v1/slots/{free.id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert client.get("/api/v1/slots?status=withdrawn", headers=headers).get_json()[0]["id"] == free.id
    booked = world.slot(gp.practitioner, tomorrow_at(10))
    world.booking(booked)
    response = client.delete(f"/api/v1/slots/{booked.id}", headers=headers)
    assert response.status_code == 409
    assert "annulez" in response.get_json()["error"]["message"]
    assert client.delete("/api/v1/slots/999999", headers=headers).status_code == 404


def test_import_endpoint_takes_text_calendar(client, world, gp):
    start = (utcnow() + timedelta(days=3)).replace(hour=13, minute=0, second=0, microsecond=0)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:one@test\r\n"
           f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
           "SUMMARY:SNP\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    headers = world.headers(gp)
    response = client.post("/api/v1/slots/import?slot_minutes=20", data=ics, content_type="text/calendar",
                           headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["created"] == 3 and body["skipped"] == [] and len(body["slots"]) == 3
    again = client.post("/api/v1/slots/import?slot_minutes=20", data=ics, content_type="text/calendar", headers=headers)
    assert again.get_json()["created"] == 0
    assert {s["reason"] for s in again.get_json()["skipped"]} == {"overlap"}
    junk = client.post("/api/v1/slots/import", data=b"\x89PNG\r\n\x00\x01", content_type="text/calendar", headers=headers)
    assert junk.status_code == 422 and junk.get_json()["error"]["code"] == "invalid_ics"
    wrong_type = client.post("/api/v1/slots/import", json={"a": 1}, headers=headers)
    assert wrong_type.status_code == 415


def test_a_series_with_on_conflict_skip_leaves_out_the_occupied_days_and_names_them(client, world, gp):
    """Issue 24: by default a series is all or nothing; ``skip`` publishes the days that are still free."""
    first = paris_today() + timedelta(days=2)
    series = {"first_start": f"{first.isoformat()}T17:00:00", "block_minutes": 60, "slot_minutes": 20,
              "rrule": "FREQ=DAILY;COUNT=4"}
    occupied = first + timedelta(days=2)
    world.slot(gp.practitioner, datetime.combine(occupied, time(17, 30), PARIS))
    headers = world.headers(gp)

    refused = client.post("/api/v1/slots", json={"series": series}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "slot_overlap"
    published = client.post("/api/v1/slots", json={"series": series, "on_conflict": "skip"}, headers=headers)

    assert published.status_code == 201
    answer = published.get_json()
    assert answer["count"] == 9 and answer["skipped_days"] == [occupied.isoformat()]
    assert occupied.isoformat() not in {s["start"][:10] for s in answer["slots"]}
    again = client.post("/api/v1/slots", json={"series": series, "on_conflict": "skip"}, headers=headers)
    assert again.status_code == 409  # every day is occupied now: nothing left to publish


def test_on_conflict_skip_is_for_a_block_or_a_series(client, world, gp):
    one = {"start": tomorrow_at(9).isoformat(), "end": tomorrow_at(9, 15).isoformat()}
    for body in ({**one, "on_conflict": "skip"}, {"block": {"start": tomorrow_at(9).isoformat(),
                                                             "end": tomorrow_at(10).isoformat(), "slot_minutes": 15},
                                                   "on_conflict": "maybe"}):
        response = client.post("/api/v1/slots", json=body, headers=world.headers(gp))
        assert response.status_code == 422 and "on_conflict" in response.get_json()["error"]["fields"]
