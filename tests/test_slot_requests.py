"""Slot requests: sent to exactly the opted-in practitioners nearby, the first accept books, the others 409."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from snp_service.bookings import retention
from snp_service.core.extensions import db
from snp_service.core.timeutil import to_paris, utcnow
from snp_service.models import AuditEvent, Booking, OutboxMessage, Patient, Slot, SlotRequest
from snp_service.requests import answering

from .factories import sign_in_form
from .test_booking_race import _post

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461),
            ("85047", "Challans", 46.8467, -1.8781))
NEAR = {"commune_insee": "85226", "lat": 46.7206, "lon": -1.9461}  # ~2.6 km from Saint-Gilles
CHALLANS = {"commune_insee": "85047", "lat": 46.8467, "lon": -1.8781}  # ~17 km
MOBILE = "+33612000001"


def _area(world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    return cpts, world.user("regulator", cpts)


def _taker(world, cpts, **kwargs):
    practitioner = world.practitioner(cpts, **kwargs)
    practitioner.takes_requests = True
    practitioner.phone = MOBILE
    world.save_changes()
    return practitioner


def _body(**changes) -> dict:
    start = to_paris(utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    body = {"patient": {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1980-01-01",
                        "phone": "0612345678", "has_treating_doctor": "no"},
            "reason": "fièvre", "channel": "116117", "commune_insee": "85222", "profession": "gp", "mode": "office",
            "not_before": start.isoformat(), "not_after": (start + timedelta(hours=4)).isoformat(), "radius_km": 10,
            "notify_patient": True}
    return body | changes


def _send(client, headers, **changes):
    return client.post("/api/v1/slot-requests", json=_body(**changes), headers=headers)


def _counts():
    return (db.session.scalar(select(func.count()).select_from(SlotRequest)),
            db.session.scalar(select(func.count()).select_from(Patient)),
            db.session.scalar(select(func.count()).select_from(OutboxMessage)))


def test_a_request_reaches_exactly_the_opted_in_practitioners_of_the_profession_within_the_radius(client, world):
    cpts, regulator = _area(world)
    reached = [_taker(world, cpts), _taker(world, cpts, **NEAR)]
    _taker(world, cpts, **CHALLANS)  # beyond 10 km
    world.practitioner(cpts)  # does not take requests
    _taker(world, cpts, profession="nurse")  # another profession
    _taker(world, world.cpts(regulation_area="Ailleurs"))  # another area

    response = _send(client, world.headers(regulator))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["recipients"], body["seen"], body["booking_id"]) == ("open", 2, 0, None)
    request = db.session.get(SlotRequest, body["id"])
    assert abs((request.expires_at - request.created_at).total_seconds() - 30 * 60) < 2  # 30 min before not_after
    texts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gp_slot_request")).all()
    assert sorted(m.practitioner_id for m in texts) == sorted(p.id for p in reached)
    assert all(f"/gp/demandes/{body['id']}" in m.body and "Durand" not in m.body and "fievre" not in m.body.lower()
               for m in texts)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slot_request.create"))
    assert audit.after["recipients"] == 2 and "Durand" not in str(audit.after)


def test_nobody_taking_requests_within_the_radius_is_a_422_that_creates_nothing(client, world):
    cpts, regulator = _area(world)
    world.practitioner(cpts)  # not opted in
    _taker(world, cpts, **CHALLANS)  # too far
    before = _counts()
    response = _send(client, world.headers(regulator), radius_km=5)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "no_recipient" and "rayon" in error["message"]
    assert _counts() == before


@pytest.mark.parametrize("changes", [
    {"not_before": (utcnow() - timedelta(hours=5)).isoformat(), "not_after": (utcnow() - timedelta(hours=1)).isoformat()},
    {"not_before": (utcnow() + timedelta(hours=5)).isoformat(), "not_after": (utcnow() + timedelta(hours=2)).isoformat()},
    {"profession": "surgeon"},
    {"radius_km": 101},
    {"radius_km": 0},
    {"not_after": "2030-01-01T10:00:00"},  # no offset
    {"commune_insee": "99999"},
], ids=["past", "reversed", "profession", "radius-over-100", "radius-zero", "naive", "commune"])
def test_bad_input_is_a_422_that_creates_nothing(client, world, changes):
    cpts, regulator = _area(world)
    _taker(world, cpts)
    before = _counts()
    response = _send(client, world.headers(regulator), **changes)
    assert response.status_code == 422, response.get_json()
    assert _counts() == before


def _open_request(client, world, cpts, regulator, takers=2, **changes):
    gps = [world.user("gp", cpts, _taker(world, cpts)) for _ in range(takers)]
    response = _send(client, world.headers(regulator), **changes)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"], gps


def test_accept_creates_the_slot_and_the_booking_together_and_closes_the_request(client, world):
    cpts, regulator = _area(world)
    request_id, (first, second) = _open_request(client, world, cpts, regulator)
    start = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)

    seen = client.post(f"/api/v1/slot-requests/{request_id}/seen", json={}, headers=world.headers(second))
    accepted = client.post(f"/api/v1/slot-requests/{request_id}/accept", json={"start": start.isoformat()},
                           headers=world.headers(first))

    assert seen.status_code == 200 and accepted.status_code == 201, accepted.get_json()
    booking = accepted.get_json()["booking"]
    assert booking["channel"] == "116117" and booking["patient"]["last_name"] == "Durand"
    assert booking["practitioner"]["id"] == first.practitioner_id
    slot = db.session.get(Slot, booking["slot_id"])
    assert (slot.status, slot.practitioner_id, slot.end_at - slot.start_at) == ("booked", first.practitioner_id,
                                                                               timedelta(minutes=15))
    assert to_paris(slot.start_at) == start
    state = client.get(f"/api/v1/slot-requests/{request_id}", headers=world.headers(regulator)).get_json()
    assert (state["status"], state["recipients"], state["seen"], state["booking_id"]) == ("accepted", 2, 1, booking["id"])
    assert state["accepted_by"].startswith("Dr ") and state["accepted_start"] == start.isoformat()
    confirmation = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "patient_confirmation"))
    assert confirmation.booking_id == booking["id"] and confirmation.to_phone == "+33612345678"

    late = client.post(f"/api/v1/slot-requests/{request_id}/accept",
                       json={"start": (start + timedelta(minutes=30)).isoformat()}, headers=world.headers(second))
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "request_closed"
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    other_view = client.get(f"/api/v1/slot-requests/{request_id}", headers=world.headers(second)).get_json()
    assert other_view["status"] == "accepted"


def test_accept_uses_the_practitioners_usual_length_and_refuses_outside_the_window_or_an_overlap(client, world):
    cpts, regulator = _area(world)
    request_id, (gp, _other) = _open_request(client, world, cpts, regulator)
    practitioner = db.session.get(type(gp.practitioner), gp.practitioner_id)
    for i in range(3):
        world.slot(practitioner, utcnow() + timedelta(days=3, minutes=20 * i), minutes=20)
    busy = world.slot(practitioner, (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0), minutes=20)
    headers = world.headers(gp)

    outside = client.post(f"/api/v1/slot-requests/{request_id}/accept",
                          json={"start": to_paris(utcnow() + timedelta(hours=6)).isoformat()}, headers=headers)
    overlap = client.post(f"/api/v1/slot-requests/{request_id}/accept",
                          json={"start": to_paris(busy.start_at + timedelta(minutes=5)).isoformat()}, headers=headers)
    assert outside.status_code == 422
    assert overlap.status_code == 409 and overlap.get_json()["error"]["code"] == "slot_overlap"
    assert db.session.get(SlotRequest, request_id).status == "open"  # nothing of a refused accept stays

    good = client.post(f"/api/v1/slot-requests/{request_id}/accept",
                       json={"start": to_paris(busy.end_at).isoformat()}, headers=headers)
    assert good.status_code == 201
    slot = db.session.get(Slot, good.get_json()["booking"]["slot_id"])
    assert slot.end_at - slot.start_at == timedelta(minutes=20)


def test_a_gp_the_request_was_not_sent_to_gets_a_404(client, world):
    cpts, regulator = _area(world)
    request_id, _gps = _open_request(client, world, cpts, regulator)
    outsider = world.gp(cpts)  # not opted in
    start = to_paris(utcnow() + timedelta(hours=1)).isoformat()
    assert client.get(f"/api/v1/slot-requests/{request_id}", headers=world.headers(outsider)).status_code == 404
    assert client.post(f"/api/v1/slot-requests/{request_id}/accept", json={"start": start},
                       headers=world.headers(outsider)).status_code == 404
    other_area = world.user("regulator", world.cpts(regulation_area="Ailleurs"))
    assert client.get(f"/api/v1/slot-requests/{request_id}", headers=world.headers(other_area)).status_code == 404


def test_cancel_closes_the_request(client, world):
    cpts, regulator = _area(world)
    request_id, (gp, _other) = _open_request(client, world, cpts, regulator)
    cancelled = client.post(f"/api/v1/slot-requests/{request_id}/cancel", json={}, headers=world.headers(regulator))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/slot-requests/{request_id}/cancel", json={}, headers=world.headers(regulator))
    accept = client.post(f"/api/v1/slot-requests/{request_id}/accept",
                         json={"start": to_paris(utcnow() + timedelta(hours=1)).isoformat()}, headers=world.headers(gp))
    assert again.status_code == 409 and accept.status_code == 409
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "slot_request.cancel")) is not None


def test_expiry_by_the_job_and_never_later_than_not_after(client, world, app):
    cpts, regulator = _area(world)
    start = to_paris(utcnow() + timedelta(minutes=5)).replace(second=0, microsecond=0)
    short_id, (gp, _other) = _open_request(client, world, cpts, regulator, not_before=start.isoformat(),
                                           not_after=(start + timedelta(minutes=20)).isoformat())
    long_id = _send(client, world.headers(regulator)).get_json()["id"]
    short, long = db.session.get(SlotRequest, short_id), db.session.get(SlotRequest, long_id)
    assert short.expires_at == short.not_after  # 20 min window: before the 30 min TTL
    assert abs((long.expires_at - long.created_at).total_seconds() - 30 * 60) < 2

    assert answering.expire_due(now=utcnow()) == 0
    assert answering.expire_due(now=short.not_after) == 1
    db.session.expire_all()
    assert (db.session.get(SlotRequest, short_id).status, db.session.get(SlotRequest, long_id).status) == ("expired",
                                                                                                         "open")
    assert answering.expire_due(now=long.expires_at + timedelta(seconds=1)) == 1
    state = client.get(f"/api/v1/slot-requests/{long_id}", headers=world.headers(regulator)).get_json()
    assert state["status"] == "expired"
    accept = client.post(f"/api/v1/slot-requests/{short_id}/accept",
                         json={"start": start.isoformat()}, headers=world.headers(gp))
    assert accept.status_code == 409


def test_listing_the_scopes_open_requests(client, world):
    cpts, regulator = _area(world)
    colleague = world.user("regulator", world.cpts(regulation_area="Vendée"))  # same area, another CPTS
    open_id, _gps = _open_request(client, world, cpts, regulator)
    cancelled_id = _send(client, world.headers(regulator)).get_json()["id"]
    client.post(f"/api/v1/slot-requests/{cancelled_id}/cancel", json={}, headers=world.headers(regulator))
    elsewhere = world.user("regulator", world.cpts(regulation_area="Ailleurs"))

    listed = client.get("/api/v1/slot-requests?status=open", headers=world.headers(colleague)).get_json()
    every = client.get("/api/v1/slot-requests", headers=world.headers(regulator)).get_json()
    assert [r["id"] for r in listed] == [open_id]
    assert {r["id"] for r in every} == {open_id, cancelled_id}
    assert client.get("/api/v1/slot-requests", headers=world.headers(elsewhere)).get_json() == []
    assert client.get("/api/v1/slot-requests?status=lost", headers=world.headers(regulator)).status_code == 422


def test_the_gp_pages_show_the_request_then_demande_pourvue(client, world):
    cpts, regulator = _area(world)
    request_id, (first, second) = _open_request(client, world, cpts, regulator)
    world.sign_in_page(client, second)
    home = client.get("/gp").get_data(as_text=True)
    page = client.get(f"/gp/demandes/{request_id}").get_data(as_text=True)
    assert f"/gp/demandes/{request_id}" in home and "Ne plus recevoir les demandes de créneau" in home
    assert "Saint-Gilles-Croix-de-Vie" in page and "fièvre" in page and 'type="time"' in page

    start = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    assert client.post(f"/api/v1/slot-requests/{request_id}/accept", json={"start": start.isoformat()},
                       headers=world.headers(first)).status_code == 201
    page = client.get(f"/gp/demandes/{request_id}").get_data(as_text=True)
    assert "Demande pourvue" in page and 'type="time"' not in page
    assert f"/gp/demandes/{request_id}" not in client.get("/gp").get_data(as_text=True)


def test_the_gp_accepts_from_the_page_with_a_paris_time(client, world):
    cpts, regulator = _area(world)
    request_id, (gp, _other) = _open_request(client, world, cpts, regulator)
    start = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    csrf = sign_in_form(client, gp)
    answer = client.post(f"/gp/demandes/{request_id}/accepter",
                         data={"csrf_token": csrf, "day": start.date().isoformat(), "time": start.strftime("%H:%M")})
    assert answer.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert to_paris(booking.slot.start_at) == start and booking.slot.practitioner_id == gp.practitioner_id


def test_the_opt_in_is_off_by_default_and_the_gp_turns_it_on(client, world):
    cpts, _regulator = _area(world)
    gp = world.gp(cpts)
    assert gp.practitioner.takes_requests is False
    csrf = sign_in_form(client, gp)
    assert "Recevoir les demandes de créneau" in client.get("/gp").get_data(as_text=True)
    client.post("/gp/slot-requests", data={"csrf_token": csrf, "takes": "1"})
    db.session.expire_all()
    assert gp.practitioner.takes_requests is True
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "practitioner.takes_requests"))


def test_a_requests_patient_follows_the_booking_retention(client, world, app):
    cpts, regulator = _area(world)
    request_id, _gps = _open_request(client, world, cpts, regulator)
    request = db.session.get(SlotRequest, request_id)
    later = request.not_after + timedelta(days=app.config["PATIENT_RETENTION_DAYS"] + 1)
    retention.purge_patient_data(now=later)
    db.session.expire_all()
    patient = db.session.get(Patient, request.patient_id)
    assert patient.last_name is None and patient.phone is None and db.session.get(SlotRequest, request_id).reason is None


ACCEPTS = 50
PRACTITIONERS = 10


def test_fifty_accepts_from_ten_practitioners_make_one_booking_and_49_conflicts(live_server, world):
    cpts, regulator = _area(world)
    with world.batch():  # committed before the live server reads it
        gps = [world.user("gp", cpts, _taker(world, cpts)) for _ in range(PRACTITIONERS)]
    headers = [world.headers(gp) for gp in gps]
    body = _body()
    response = _post(live_server, "/api/v1/slot-requests", body, world.headers(regulator))
    assert response[0] == 201, response
    request_id = response[1]["id"]
    first = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    barrier = threading.Barrier(ACCEPTS)

    def attempt(n: int):
        start = first + timedelta(minutes=15 * (n // PRACTITIONERS))  # each practitioner tries 5 different times
        barrier.wait()
        return _post(live_server, f"/api/v1/slot-requests/{request_id}/accept", {"start": start.isoformat()},
                     headers[n % PRACTITIONERS])

    with ThreadPoolExecutor(ACCEPTS) as pool:
        answers = list(pool.map(attempt, range(ACCEPTS)))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: ACCEPTS - 1}, statuses
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"request_closed"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 1
    assert db.session.get(SlotRequest, request_id).status == "accepted"


def test_the_report_and_the_indicators_count_requests(client, world, app):
    from snp_service.reporting import fill_rate, indicators

    cpts, regulator = _area(world)
    coordinator = world.user("coordinator", cpts)
    accepted_id, (gp, _other) = _open_request(client, world, cpts, regulator)
    expired_id = _send(client, world.headers(regulator)).get_json()["id"]
    _send(client, world.headers(regulator))  # still open
    request = db.session.get(SlotRequest, accepted_id)
    start = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    assert client.post(f"/api/v1/slot-requests/{accepted_id}/accept", json={"start": start.isoformat()},
                       headers=world.headers(gp)).status_code == 201
    answering.expire_due(now=db.session.get(SlotRequest, expired_id).expires_at)
    db.session.expire_all()
    request = db.session.get(SlotRequest, accepted_id)
    request.created_at = request.closed_at - timedelta(minutes=12)  # accepted 12 minutes after it was sent
    db.session.commit()

    today = to_paris(utcnow()).date()
    summary = fill_rate.summary([cpts.id], today - timedelta(days=1), today + timedelta(days=1))
    assert (summary["requests_sent"], summary["requests_accepted"], summary["requests_expired"],
            summary["median_minutes_to_accept"]) == (3, 1, 1, 12.0)
    assert summary["filled"] == 1 and summary["bookings_by_channel"]["116117"] == 1  # a booking like any other
    report = client.get("/api/v1/reports/fill-rate", headers=world.headers(coordinator), query_string={
        "cpts_id": cpts.id, "from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()})
    assert report.get_json()["summary"]["requests_sent"] == 3
    values = {v.code: v.value for v in indicators.compute("job:compute_indicators", cpts.id, f"{today:%Y-%m}")}
    assert (values["requests_sent"], values["requests_accepted"], values["requests_expired"],
            values["median_minutes_to_accept"]) == (3, 1, 1, 12.0)


def test_the_request_sms_fits_one_segment_even_over_two_days(app):
    from snp_service.notify import messages

    start = utcnow().replace(hour=13, minute=30)
    for end in (start + timedelta(hours=4), start + timedelta(days=2)):
        text = messages.render("gp_slot_request", commune="Saint-Gilles-Croix-de-Vie",
                               window=messages.window(start, end), link="https://snp.cpts-lv.fr/gp/demandes/123456")
        assert messages.gsm7_length(text + messages.reference(999999)) <= 160, text


def test_a_wide_radius_texts_only_the_nearest_practitioners_up_to_the_cap(client, world, app):
    """The cap (SNP_SLOT_REQUEST_MAX_RECIPIENTS) keeps the nearest; the audit says some were left out."""
    app.config["SLOT_REQUEST_MAX_RECIPIENTS"] = 2
    cpts, regulator = _area(world)
    nearest = [_taker(world, cpts), _taker(world, cpts, **NEAR)]
    _taker(world, cpts, **CHALLANS)  # within 30 km, but third nearest

    response = _send(client, world.headers(regulator), radius_km=30)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["recipients"] == 2
    texts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gp_slot_request")).all()
    assert sorted(m.practitioner_id for m in texts) == sorted(p.id for p in nearest)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slot_request.create"))
    assert (audit.after["recipients"], audit.after["capped"]) == (2, True)
