"""Public FHIR bulk publishing of free slots (SMART Scheduling Links)."""
from __future__ import annotations

import json
from datetime import timedelta

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow

from .sas_world import take_part

EXTENSION = "http://hl7.org/fhir/uv/smart-scheduling-links/StructureDefinition/"


def _ndjson(client, name):
    response = client.get(f"/api/v1/fhir/{name}")
    assert response.status_code == 200 and response.mimetype == "application/fhir+ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_manifest_lists_the_three_files(client, app):
    manifest = client.get("/api/v1/fhir/$bulk-publish").get_json()
    assert [o["type"] for o in manifest["output"]] == ["Location", "Schedule", "Slot"]
    assert manifest["output"][2]["url"] == f"{app.config['PUBLIC_URL']}/api/v1/fhir/slots.ndjson"


def test_only_free_upcoming_slots_are_published_without_patient_data(client, world):
    cpts = world.cpts()
    gp = take_part(world.practitioner(cpts))
    soon = utcnow() + timedelta(hours=3)
    free = world.slot(gp, soon)
    booked = world.slot(gp, soon + timedelta(minutes=30))
    world.booking(booked, first_name="Secret", last_name="Patient")
    world.slot(gp, soon + timedelta(hours=1), status="withdrawn")
    world.slot(gp, utcnow() - timedelta(hours=1), status="expired")

    slots = _ndjson(client, "slots.ndjson")
    assert [s["id"] for s in slots] == [str(free.id)]
    assert slots[0]["schedule"] == {"reference": f"Schedule/{gp.id}"} and slots[0]["status"] == "free"
    schedules = _ndjson(client, "schedules.ndjson")
    assert schedules[0]["actor"] == [{"reference": f"Location/{gp.id}"}]
    locations = _ndjson(client, "locations.ndjson")
    assert locations[0]["position"]["latitude"] == gp.lat
    everything = "".join(client.get(f"/api/v1/fhir/{n}").get_data(as_text=True)
                         for n in ("slots.ndjson", "schedules.ndjson", "locations.ndjson"))
    assert "Secret" not in everything


def test_unknown_file_is_404_operation_outcome(client):
    response = client.get("/api/v1/fhir/patients.ndjson")
    assert response.status_code == 404 and response.mimetype == "application/fhir+json"
    assert response.get_json()["issue"][0]["code"] == "not-found"


def test_only_practitioners_who_take_part_are_published(client, world):
    cpts = world.cpts()
    shown, declined = take_part(world.practitioner(cpts)), world.practitioner(cpts)
    published = world.slot(shown, utcnow() + timedelta(hours=2))
    world.slot(declined, utcnow() + timedelta(hours=2))
    assert [s["id"] for s in _ndjson(client, "slots.ndjson")] == [str(published.id)]
    assert [r["id"] for r in _ndjson(client, "schedules.ndjson")] == [str(shown.id)]
    assert [r["id"] for r in _ndjson(client, "locations.ndjson")] == [str(shown.id)]


def test_each_free_slot_carries_a_booking_deep_link_and_phone(client, world, app):
    gp = take_part(world.practitioner(world.cpts()))
    slot = world.slot(gp, utcnow() + timedelta(hours=2))
    (published,) = _ndjson(client, "slots.ndjson")
    assert published["extension"] == [
        {"url": EXTENSION + "booking-deep-link", "valueUrl": f"{app.config['PUBLIC_URL']}/regulation?slot={slot.id}"},
        {"url": EXTENSION + "booking-phone", "valueString": "116117"}]


def test_manifest_and_files_say_how_long_to_keep_them(client):
    for path in ("$bulk-publish", "slots.ndjson", "schedules.ndjson", "locations.ndjson"):
        assert client.get(f"/api/v1/fhir/{path}").headers["Cache-Control"] == "public, max-age=60"


def test_since_gives_what_changed_busy_slots_included(client, world, app):
    gp = take_part(world.practitioner(world.cpts()))
    old = world.slot(gp, utcnow() + timedelta(hours=2))
    booked = world.slot(gp, utcnow() + timedelta(hours=3))
    since = utcnow()
    new = world.slot(gp, utcnow() + timedelta(hours=4))
    world.booking(booked)  # booked after `since`: now busy
    manifest = client.get("/api/v1/fhir/$bulk-publish", query_string={"_since": since.isoformat()}).get_json()
    slots_url = manifest["output"][2]["url"]
    assert "_since=" in slots_url
    changed = client.get(slots_url.removeprefix(app.config["PUBLIC_URL"]))
    slots = {s["id"]: s for s in (json.loads(line) for line in changed.get_data(as_text=True).splitlines())}
    assert set(slots) == {str(booked.id), str(new.id)} and str(old.id) not in slots
    assert slots[str(booked.id)]["status"] == "busy" and "extension" not in slots[str(booked.id)]
    assert slots[str(new.id)]["status"] == "free"
    everything = _ndjson(client, "slots.ndjson")
    assert {s["id"] for s in everything} == {str(old.id), str(new.id)}


def test_a_malformed_since_is_a_400_operation_outcome(client):
    for value in ("yesterday", "2026-07-13T08:00:00"):
        response = client.get("/api/v1/fhir/slots.ndjson", query_string={"_since": value})
        assert response.status_code == 400 and response.get_json()["resourceType"] == "OperationOutcome"
