"""Booking a slot during a call, then cancel, move and outcome, through the API."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import AuditEvent, Booking, Patient, Slot

PATIENT = {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1950-04-02", "phone": "06 12 34 56 78",
           "commune_insee": "85222", "has_treating_doctor": "yes", "treating_rpps": "12345678901"}


def _payload(slot, **changes):
    body = {"slot_id": slot.id, "patient": dict(PATIENT), "reason": "Fièvre depuis 2 jours", "channel": "116117",
            "notify_patient": True}
    body["patient"].update(changes.pop("patient", {}))
    body.update(changes)
    return body


@pytest.fixture
def area(world):
    cpts = world.cpts(regulation_area="Vendée")
    return {"cpts": cpts, "doctor": world.practitioner(cpts), "regulator": world.user("regulator", cpts)}


def _status(slot_id):
    db.session.expire_all()
    return db.session.get(Slot, slot_id).status


def test_booking_normalises_the_patient_and_books_the_slot(client, world, area):
    slot = world.slot(area["doctor"])
    response = client.post("/api/v1/bookings", json=_payload(slot), headers=world.headers(area["regulator"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["slot_id"] == slot.id and body["status"] == "booked" and body["outcome"] is None
    # Every instant of the API is given in Europe/Paris time with its offset.
    assert body["channel"] == "116117" and body["created_at"][-6:] in ("+01:00", "+02:00")
    assert body["patient"]["phone"] == "+33612345678"
    assert body["slot"]["status"] == "booked"
    assert body["practitioner"]["address"] == area["doctor"].address
    assert _status(slot.id) == "booked"
    stored = db.session.get(Booking, body["id"])
    assert stored.has_treating_doctor == "yes" and stored.by_treating_doctor is False


def test_booking_with_the_treating_doctor_is_flagged(client, world, area):
    slot = world.slot(world.practitioner(area["cpts"], rpps="12345678901"))
    response = client.post("/api/v1/bookings", json=_payload(slot), headers=world.headers(area["regulator"]))
    assert response.status_code == 201
    assert response.get_json()["by_treating_doctor"] is True


def test_taken_slot_is_409_with_alternatives(client, world, area):
    slot = world.slot(area["doctor"])
    later_same_doctor = world.slot(area["doctor"], utcnow() + timedelta(hours=5))
    other = world.slot(world.practitioner(area["cpts"]), utcnow() + timedelta(hours=4))
    headers = world.headers(area["regulator"])
    assert client.post("/api/v1/bookings", json=_payload(slot), headers=headers).status_code == 201

    response = client.post("/api/v1/bookings", json=_payload(slot), headers=headers)

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_unavailable"
    assert [a["slot"]["id"] for a in error["alternatives"]] == [later_same_doctor.id, other.id]
    assert db.session.query(Booking).count() == 1


def test_started_or_withdrawn_slots_cannot_be_booked(client, world, area):
    headers = world.headers(area["regulator"])
    started = world.slot(area["doctor"], utcnow() - timedelta(minutes=2))
    withdrawn = world.slot(area["doctor"], utcnow() + timedelta(hours=6), status="withdrawn")
    for slot in (started, withdrawn):
        response = client.post("/api/v1/bookings", json=_payload(slot), headers=headers)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "slot_unavailable"


def test_idempotent_retry_returns_the_first_booking(client, world, area):
    slot = world.slot(area["doctor"])
    headers = world.headers(area["regulator"]) | {"Idempotency-Key": "call-42-attempt"}
    first = client.post("/api/v1/bookings", json=_payload(slot), headers=headers)
    again = client.post("/api/v1/bookings", json=_payload(slot), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.query(Booking).count() == 1 and db.session.query(Patient).count() == 1


@pytest.mark.parametrize("changes", [
    {"patient": {"first_name": "Paul"}},  # another caller under the same key: never answer them the first booking
    {"slot": "other"}, {"channel": "sas"}, {"reason": "Autre motif"}, {"notify_patient": False},
])
def test_an_idempotency_key_reused_with_another_body_is_refused(client, world, area, changes):
    slot, other = world.slot(area["doctor"]), world.slot(area["doctor"], utcnow() + timedelta(hours=5))
    headers = world.headers(area["regulator"]) | {"Idempotency-Key": "call-42-attempt"}
    first = client.post("/api/v1/bookings", json=_payload(slot), headers=headers)
    if changes.pop("slot", None):
        changes["slot_id"] = other.id
    reused = client.post("/api/v1/bookings", json=_payload(slot, **changes), headers=headers)
    assert first.status_code == 201
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Paul" not in reused.get_data(as_text=True)
    assert db.session.query(Booking).count() == 1 and _status(other.id) == "free"
    # The same body, written differently (the phone as typed, keys in another order), is still a replay.
    same = _payload(slot, patient={"phone": "+33612345678"})
    again = client.post("/api/v1/bookings", json=dict(reversed(list(same.items()))), headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]


@pytest.mark.parametrize("field, value", [
    ("first_name", ""), ("first_name", "x" * 101), ("last_name", None), ("birth_date", "not-a-date"),
    ("birth_date", (date.today() + timedelta(days=2)).isoformat()), ("birth_date", "1890-01-01"),
    ("phone", "12"), ("phone", "06 12 34"), ("phone", "+33 1 23"), ("commune_insee", "8522"),
    ("has_treating_doctor", "maybe"), ("treating_rpps", "1234"),
])
def test_each_bad_patient_field_is_422_naming_it_without_echoing_it(client, world, area, field, value):
    slot = world.slot(area["doctor"])
    response = client.post("/api/v1/bookings", json=_payload(slot, patient={field: value}),
                           headers=world.headers(area["regulator"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["fields"]["patient"]
    if value and len(str(value)) > 3:
        assert str(value) not in response.get_data(as_text=True)
    assert _status(slot.id) == "free" and db.session.query(Booking).count() == 0


@pytest.mark.parametrize("changes, field", [
    ({"channel": "fax"}, "channel"), ({"reason": "x" * 201}, "reason"), ({"slot_id": "7"}, "slot_id"),
    ({"notify_patient": "perhaps"}, "notify_patient"), ({"patient": {"has_treating_doctor": "no"}}, "patient"),
])
def test_bad_booking_fields_are_422(client, world, area, changes, field):
    slot = world.slot(area["doctor"])
    response = client.post("/api/v1/bookings", json=_payload(slot, **changes), headers=world.headers(area["regulator"]))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_who_may_book(client, world, area):
    slot = world.slot(area["doctor"])
    partner = world.cpts(regulation_area="Vendée")
    partner_slot = world.slot(world.practitioner(partner))
    outsider = world.user("regulator", world.cpts(regulation_area="Loire"))
    coordinator_elsewhere = world.user("coordinator", partner)
    assert client.post("/api/v1/bookings", json=_payload(slot)).status_code == 401
    gp = world.headers(world.gp(area["cpts"]))
    assert client.post("/api/v1/bookings", json=_payload(slot), headers=gp).status_code == 403
    for user in (outsider, coordinator_elsewhere):
        response = client.post("/api/v1/bookings", json=_payload(slot), headers=world.headers(user))
        assert response.status_code == 404
    assert _status(slot.id) == "free"
    regulator = world.headers(area["regulator"])
    assert client.post("/api/v1/bookings", json=_payload(partner_slot), headers=regulator).status_code == 201


def _book(client, world, area, slot):
    response = client.post("/api/v1/bookings", json=_payload(slot), headers=world.headers(area["regulator"]))
    assert response.status_code == 201
    return response.get_json()["id"]


def test_cancel_frees_the_slot_and_is_audited(client, world, area):
    slot = world.slot(area["doctor"])
    booking_id = _book(client, world, area, slot)
    headers = world.headers(area["regulator"])
    response = client.post(f"/api/v1/bookings/{booking_id}/cancel", json={"by": "patient", "reason": "Mieux"},
                           headers=headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancelled_by"] == "patient"
    assert _status(slot.id) == "free"
    again = client.post(f"/api/v1/bookings/{booking_id}/cancel", json={"by": "patient"}, headers=headers)
    assert again.status_code == 409
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(object_type="booking")]
    assert actions == ["booking.create", "booking.cancel"]
    assert "Jeanne" not in str([(e.before, e.after) for e in db.session.query(AuditEvent)])


def test_cancel_after_start_expires_the_slot(client, world, area):
    slot = world.slot(area["doctor"], utcnow() - timedelta(minutes=5))
    booking = world.booking(slot)
    gp = world.user("gp", area["cpts"], area["doctor"])
    response = client.post(f"/api/v1/bookings/{booking.id}/cancel", json={"by": "practitioner"},
                           headers=world.headers(gp))
    assert response.status_code == 200
    assert _status(slot.id) == "expired"


def test_who_may_cancel(client, world, area):
    booking = world.booking(world.slot(area["doctor"]))
    other_gp = world.gp(area["cpts"])
    outsider = world.user("regulator", world.cpts(regulation_area="Loire"))
    for user in (other_gp, outsider):
        response = client.post(f"/api/v1/bookings/{booking.id}/cancel", json={"by": "regulator"},
                               headers=world.headers(user))
        assert response.status_code == 404
    bad = client.post(f"/api/v1/bookings/{booking.id}/cancel", json={"by": "someone"},
                      headers=world.headers(area["regulator"]))
    assert bad.status_code == 422 and "by" in bad.get_json()["error"]["fields"]
    assert db.session.get(Booking, booking.id).status == "booked"


@pytest.mark.parametrize("role, by, recorded", [
    ("gp", None, "practitioner"), ("gp", "practitioner", "practitioner"), ("gp", "regulator", None),
    ("gp", "patient", None),
    ("regulator", None, "regulator"), ("regulator", "patient", "patient"), ("regulator", "coordinator", None),
    ("regulator", "practitioner", None),
    ("coordinator", None, "coordinator"), ("coordinator", "patient", "patient"), ("coordinator", "regulator", None),
    ("admin", None, "coordinator"),
])
def test_who_cancelled_comes_from_the_callers_role(client, world, area, role, by, recorded):
    """A GP cancels as the practitioner; a regulator or a coordinator as themselves, or records the patient's call."""
    booking = world.booking(world.slot(area["doctor"]))
    user = {"gp": lambda: world.user("gp", area["cpts"], area["doctor"]), "regulator": lambda: area["regulator"],
            "coordinator": lambda: world.user("coordinator", area["cpts"]), "admin": lambda: world.user("admin")}[role]()
    response = client.post(f"/api/v1/bookings/{booking.id}/cancel", json={"by": by} if by else {},
                           headers=world.headers(user))
    db.session.expire_all()
    if recorded is None:
        assert response.status_code == 422 and "by" in response.get_json()["error"]["fields"]
        assert db.session.get(Booking, booking.id).status == "booked"
    else:
        assert response.status_code == 200 and response.get_json()["cancelled_by"] == recorded
        assert db.session.get(Booking, booking.id).cancelled_by == recorded


def test_move_books_the_new_slot_and_frees_the_old(client, world, area):
    old_slot, new_slot = world.slot(area["doctor"]), world.slot(area["doctor"], utcnow() + timedelta(hours=6))
    booking_id = _book(client, world, area, old_slot)
    response = client.post(f"/api/v1/bookings/{booking_id}/move", json={"slot_id": new_slot.id},
                           headers=world.headers(area["regulator"]))
    assert response.status_code == 201
    moved = response.get_json()
    assert moved["slot_id"] == new_slot.id and moved["patient"]["last_name"] == "Durand"
    assert _status(old_slot.id) == "free" and _status(new_slot.id) == "booked"
    assert db.session.get(Booking, booking_id).status == "cancelled"


def test_move_to_a_taken_slot_changes_nothing(client, world, area):
    old_slot, taken = world.slot(area["doctor"]), world.slot(area["doctor"], utcnow() + timedelta(hours=6))
    booking_id = _book(client, world, area, old_slot)
    world.booking(taken)
    response = client.post(f"/api/v1/bookings/{booking_id}/move", json={"slot_id": taken.id},
                           headers=world.headers(area["regulator"]))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "slot_unavailable"
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == "booked"
    assert _status(old_slot.id) == "booked"
    assert db.session.query(Booking).filter_by(status="booked").count() == 2


def test_move_failing_after_the_rebooking_changes_nothing(client, world, area, monkeypatch):
    from snp_service.notify import events

    old_slot, new_slot = world.slot(area["doctor"]), world.slot(area["doctor"], utcnow() + timedelta(hours=6))
    booking_id = _book(client, world, area, old_slot)

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(events, "booking_moved", broken)
    response = client.post(f"/api/v1/bookings/{booking_id}/move", json={"slot_id": new_slot.id},
                           headers=world.headers(area["regulator"]))
    assert response.status_code == 500
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == "booked"
    assert _status(old_slot.id) == "booked" and _status(new_slot.id) == "free"
    assert db.session.query(Booking).count() == 1


def test_a_booking_failing_after_its_inserts_leaves_nothing_behind(ctx, world, area, monkeypatch):
    from snp_service.bookings import booking
    from snp_service.notify import events

    first, second = world.slot(area["doctor"]), world.slot(area["doctor"], utcnow() + timedelta(hours=6))
    request = {"patient": {**PATIENT, "birth_date": date(1950, 4, 2)}, "channel": "116117", "reason": None}

    failed = []

    def broken(new_booking, notify_patient):
        failed.append(new_booking)  # held, as a caller's variable would hold it
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(events, "booking_created", broken)
    with pytest.raises(RuntimeError):
        booking.book(area["regulator"], {**request, "slot_id": first.id})
    monkeypatch.undo()
    assert failed[0] not in db.session and failed[0].patient not in db.session
    # Same session, as a CLI command or a job would use it: the next booking must not meet the ghost of the first.
    booked, is_new = booking.book(area["regulator"], {**request, "slot_id": second.id})
    assert is_new and booked.patient.last_name == "Durand"
    db.session.expire_all()
    assert _status(first.id) == "free" and _status(second.id) == "booked"
    assert db.session.query(Patient).count() == 1 and db.session.query(Booking).count() == 1


def test_outcome_only_once_the_slot_has_started(client, world, area):
    gp = world.user("gp", area["cpts"], area["doctor"])
    future = world.booking(world.slot(area["doctor"]))
    started = world.booking(world.slot(area["doctor"], utcnow() - timedelta(minutes=10)))
    headers = world.headers(gp)
    early = client.post(f"/api/v1/bookings/{future.id}/outcome", json={"outcome": "honored"}, headers=headers)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "slot_not_started"
    done = client.post(f"/api/v1/bookings/{started.id}/outcome", json={"outcome": "no_show"}, headers=headers)
    assert done.status_code == 200 and done.get_json()["outcome"] == "no_show"
    bad = client.post(f"/api/v1/bookings/{started.id}/outcome", json={"outcome": "maybe"}, headers=headers)
    assert bad.status_code == 422
    cancel = client.post(f"/api/v1/bookings/{started.id}/cancel", json={"by": "practitioner"}, headers=headers)
    assert cancel.status_code == 409


def test_who_may_record_an_outcome(client, world, area):
    started = world.booking(world.slot(area["doctor"], utcnow() - timedelta(minutes=10)))
    url = f"/api/v1/bookings/{started.id}/outcome"
    assert client.post(url, json={"outcome": "honored"}, headers=world.headers(area["regulator"])).status_code == 403
    other_gp = world.headers(world.gp(area["cpts"]))
    assert client.post(url, json={"outcome": "honored"}, headers=other_gp).status_code == 404
    coordinator = world.headers(world.user("coordinator", area["cpts"]))
    assert client.post(url, json={"outcome": "honored"}, headers=coordinator).status_code == 200


def test_cancelled_booking_takes_no_outcome(client, world, area):
    slot = world.slot(area["doctor"], utcnow() - timedelta(minutes=10))
    cancelled = world.booking(slot, status="cancelled")
    response = client.post(f"/api/v1/bookings/{cancelled.id}/outcome", json={"outcome": "honored"},
                           headers=world.headers(world.user("coordinator", area["cpts"])))
    assert response.status_code == 409


def test_listing_and_reading_per_role(client, world, area):
    mine = world.booking(world.slot(area["doctor"]))
    other_doctor = world.practitioner(area["cpts"])
    theirs = world.booking(world.slot(other_doctor, utcnow() + timedelta(hours=1)))
    elsewhere = world.booking(world.slot(world.practitioner(world.cpts(regulation_area="Loire"))))
    window = {"from": (utcnow() - timedelta(hours=1)).isoformat(), "to": (utcnow() + timedelta(days=1)).isoformat()}
    gp = world.headers(world.user("gp", area["cpts"], area["doctor"]))
    regulator = world.headers(area["regulator"])

    def ids(headers, **extra):
        response = client.get("/api/v1/bookings", query_string=window | extra, headers=headers)
        assert response.status_code == 200
        return [b["id"] for b in response.get_json()]

    assert ids(gp) == [mine.id]
    assert sorted(ids(regulator)) == sorted([mine.id, theirs.id])
    assert ids(regulator, practitioner_id=other_doctor.id) == [theirs.id]
    assert client.get("/api/v1/bookings", query_string={"practitioner_id": other_doctor.id},
                      headers=gp).status_code == 403
    assert client.get(f"/api/v1/bookings/{theirs.id}", headers=gp).status_code == 404
    assert client.get(f"/api/v1/bookings/{elsewhere.id}", headers=regulator).status_code == 404
    body = client.get(f"/api/v1/bookings/{mine.id}", headers=gp).get_json()
    assert body["patient"]["first_name"] == "Jeanne" and body["slot"]["id"] == mine.slot_id
    assert client.get("/api/v1/bookings").status_code == 401


@pytest.mark.parametrize("typed, stored", [
    ("06 12 34 56 78", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"), ("0033612345678", "+33612345678"),
    ("02.51.00.00.00", "+33251000000"), ("+44 20 7946 0958", "+442079460958"),
])
def test_phone_numbers_are_stored_in_e164(typed, stored):
    from snp_service.bookings.patients import normalise_phone

    assert normalise_phone(typed) == stored


def test_a_lost_claim_answers_404_when_the_slot_is_unknown_or_elsewhere_and_writes_nothing(client, world, area):
    # The claim is the only statement that reads the slot on success: only a lost claim looks again, and
    # a slot outside the caller's area stays unknown whether it is free or taken.
    elsewhere = world.practitioner(world.cpts(regulation_area="Loire"))
    free_elsewhere, taken_elsewhere = world.slot(elsewhere), world.slot(elsewhere, utcnow() + timedelta(hours=3))
    world.booking(taken_elsewhere)
    headers = world.headers(area["regulator"])
    for slot_id in (999_999, free_elsewhere.id, taken_elsewhere.id):
        response = client.post("/api/v1/bookings", json=_payload(free_elsewhere, slot_id=slot_id), headers=headers)
        assert response.status_code == 404, (slot_id, response.get_json())
        assert response.get_json()["error"]["fields"] == {"slot_id": ["unknown or outside your area"]}
    assert _status(free_elsewhere.id) == "free"
    assert db.session.query(Booking).count() == 1 and db.session.query(Patient).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="booking.create").count() == 0


def test_an_admin_books_in_any_area_with_the_slot_and_practitioner_answered(client, world, area):
    elsewhere = world.practitioner(world.cpts(regulation_area="Loire"), last_name="Bernard")
    slot = world.slot(elsewhere)
    response = client.post("/api/v1/bookings", json=_payload(slot), headers=world.headers(world.user("admin")))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["slot"]["status"] == "booked" and body["slot"]["practitioner_id"] == elsewhere.id
    assert body["practitioner"]["last_name"] == "Bernard" and body["practitioner"]["rpps"] == elsewhere.rpps
    assert _status(slot.id) == "booked"
