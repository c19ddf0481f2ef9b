"""Public FHIR bulk publishing of free slots (SMART Scheduling Links)."""
from __future__ import annotations

import json
from datetime import timedelta

from snp_service.timeutil import utcnow


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
    gp = world.practitioner(cpts)
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
    """SPEC section 7: errors under the FHIR base are OperationOutcome resources."""
    response = client.get("/api/v1/fhir/patients.ndjson")
    assert response.status_code == 404 and response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "not-found"
