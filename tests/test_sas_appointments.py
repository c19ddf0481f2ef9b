"""Appointments sent to the SAS platform (INT_R03), against a fake platform on 127.0.0.1 that requires our
client certificate: created, then updated in order, retried while it is down, never sent twice."""
from __future__ import annotations

import collections
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from config import load_config
from snp_service.bookings import booking as bookings
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, utcnow
from snp_service.models import AuditEvent, SasAppointment, SasPush, SasRegulatorIdentifier, Slot
from snp_service.sas.codes import editor_system
from snp_service.sas.sender import send_pending

from .certs import CertificateAuthority
from .fake_sas import FakeSas
from .sas_world import assert_conforms
from .factories import sign_in_form as sign_in

PATIENT = {"first_name": "Jeanne", "last_name": "Durand", "birth_date": date(1950, 4, 2), "phone": "06 12 34 56 78",
           "commune_insee": "85222", "has_treating_doctor": "no", "treating_rpps": None}
OUR_CN = "snp-service.test"


@pytest.fixture
def pki(tmp_path):
    sas_ca = CertificateAuthority(tmp_path, "sas")  # signs the platform's server certificate
    our_ca = CertificateAuthority(tmp_path, "igc-sante")  # signs ours, as IGC-Santé would
    return {"sas_ca": sas_ca, "our_ca": our_ca, "server": sas_ca.issue("127.0.0.1", server=True),
            "ours": our_ca.issue(OUR_CN, "SNP")}


@pytest.fixture
def fake(pki):
    platform = FakeSas(*pki["server"], client_ca=pki["our_ca"].path).start()
    yield platform
    platform.stop()


@pytest.fixture
def area(app, world, fake, pki):
    cert, key = pki["ours"]
    app.config.update(SAS_API_URL=fake.url, SAS_CLIENT_CERT=str(cert), SAS_CLIENT_KEY=str(key),
                      SAS_CA_BUNDLE=str(pki["sas_ca"].path), SAS_PUSH_TIMEOUT_SECONDS=1.0,
                      SAS_PUSH_RETRY_BASE_SECONDS=30, SAS_PUSH_MAX_ATTEMPTS=12)
    cpts = world.cpts(regulation_area="Vendée")
    regulator = world.user("regulator", cpts)
    db.session.add(SasRegulatorIdentifier(user_id=regulator.id, system="urn:oid:1.2.250.1.213.3.6",
                                          value="b6e39355-8a61-4556-b340-36f7b95fec6a", type_code="INTRN"))
    db.session.commit()
    return {"cpts": cpts, "doctor": world.practitioner(cpts), "regulator": regulator,
            "coordinator": world.user("coordinator", cpts)}


def _book(area, slot, channel="sas"):
    booking, _ = bookings.book(area["regulator"], {"slot_id": slot.id, "patient": dict(PATIENT), "reason": "Fièvre",
                                                   "channel": channel, "notify_patient": False})
    return booking


def _start_in_the_past(slot_id, hours_ago: int):
    """The appointment's time has come (an outcome is recorded only then)."""
    start = utcnow() - timedelta(hours=hours_ago)
    db.session.execute(Slot.__table__.update().where(Slot.__table__.c.id == slot_id)
                       .values(start_at=start, end_at=start + timedelta(minutes=15)))
    db.session.commit()


def _calls_by_appointment(fake):
    calls = collections.defaultdict(list)
    for call in fake.calls:
        calls[call.identifier].append((call.method, call.status))
    return calls


def test_a_booking_is_posted_with_our_certificate(world, area, fake, app):
    slot = world.slot(area["doctor"], utcnow() + timedelta(hours=3))
    _book(area, slot)
    assert send_pending() == {"sent": 1, "failed": 0, "retried": 0, "requeued": 0}
    (call,) = fake.calls
    assert (call.method, call.status, call.client_cn) == ("POST", "booked", OUR_CN)
    body = assert_conforms(fake.appointments[call.identifier])
    assert body["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]
    assert body["participant"][0]["actor"]["identifier"]["value"] == "8" + area["doctor"].rpps
    assert body["participant"][0]["status"] == "accepted"
    operator = body["extension"][0]
    assert operator["url"] == "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
    assert operator["valueReference"]["identifier"]["value"] == "b6e39355-8a61-4556-b340-36f7b95fec6a"
    assert operator["valueReference"]["identifier"]["type"]["coding"][0]["code"] == "INTRN"
    assert body["identifier"][0]["system"] == f"{app.config['PUBLIC_URL']}/sas/appointment"
    assert body["start"] == slot.start_at.astimezone(PARIS).isoformat(timespec="milliseconds")
    assert "Durand" not in str(body) and "612345678" not in str(body)
    assert send_pending()["sent"] == 0  # nothing twice


def test_cancel_outcome_and_move_are_put_in_order(world, area, fake):
    doctor = area["doctor"]
    moved = _book(area, world.slot(doctor, utcnow() + timedelta(hours=3)))
    cancelled = _book(area, world.slot(doctor, utcnow() + timedelta(hours=4)))
    absent = _book(area, world.slot(doctor, utcnow() + timedelta(hours=5)))
    not_ours = _book(area, world.slot(doctor, utcnow() + timedelta(hours=6)), channel="15")
    new = bookings.move(area["regulator"], moved.id, world.slot(doctor, utcnow() + timedelta(hours=7)).id)
    bookings.cancel(area["regulator"], cancelled.id, by="patient")
    for hours_ago, (booking, outcome) in enumerate(((new, "honored"), (absent, "no_show")), start=1):
        _start_in_the_past(booking.slot_id, hours_ago)
        bookings.record_outcome(area["coordinator"], booking.id, outcome)
    bookings.cancel(area["regulator"], not_ours.id, by="patient")

    assert send_pending()["sent"] == 7
    assert sorted(_calls_by_appointment(fake).values()) == sorted([
        [("POST", "booked"), ("PUT", "booked"), ("PUT", "fulfilled")],
        [("POST", "booked"), ("PUT", "cancelled")],
        [("POST", "booked"), ("PUT", "noshow")],
    ])
    for push in db.session.scalars(select(SasPush)):  # every call as it was sent conforms to FrAppointmentSAS
        assert_conforms(push.body)
    moved_calls = [c for c in fake.calls if c.identifier == fake.calls[0].identifier]
    assert moved_calls[0].start != moved_calls[1].start  # the move's PUT carries the new time


def test_platform_down_during_100_bookings_every_appointment_arrives_once_in_order(world, area, fake):
    doctor = area["doctor"]
    start = utcnow() + timedelta(hours=2)
    with world.batch():
        slots = [world.slot(doctor, start + timedelta(minutes=15 * n)) for n in range(100)]
    clock = utcnow()
    made = []
    for n, slot in enumerate(slots):
        if n == 30:
            fake.stop()  # down for the next 40 bookings and their cancellations
        if n == 70:
            fake.start()
        made.append(_book(area, slot))
        if n % 3 == 0:
            bookings.cancel(area["regulator"], made[-1].id, by="patient")
        clock += timedelta(minutes=1)
        send_pending(now=clock)
    for _ in range(200):  # the platform is back: the backlog drains as the backoffs expire
        clock += timedelta(minutes=31)
        if not send_pending(now=clock)["sent"] and not db.session.scalar(
                select(func.count()).select_from(SasPush).where(SasPush.status != "sent")):
            break
    assert db.session.scalar(select(func.count()).select_from(SasPush).where(SasPush.status != "sent")) == 0
    assert db.session.scalar(select(func.max(SasPush.attempts))) > 1  # the outage was felt, and retried
    calls = _calls_by_appointment(fake)
    assert len(fake.created) == len(set(fake.created)) == len(calls) == 100  # each once, none lost
    for n, booking in enumerate(made):
        expected = ("booked", "cancelled") if n % 3 == 0 else ("booked",)
        assert tuple(status for _method, status in calls[_identifier_of(booking)]) == expected, n
    posted_twice = [i for i, c in calls.items() if [m for m, _s in c].count("POST") > 1]
    assert not posted_twice


def _identifier_of(booking) -> str:
    appointment = db.session.scalar(select(SasAppointment).where(SasAppointment.booking_id == booking.id))
    return f"{editor_system('appointment')}|{appointment.identifier}"


def test_a_lost_answer_is_retried_as_a_conditional_update_never_a_second_appointment(world, area, fake):
    fake.slow_next, fake.slow_seconds = 1, 2.5  # arrives, but answers after our 1 s timeout
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)))
    assert send_pending()["retried"] == 1
    push = db.session.scalar(select(SasPush))
    assert (push.status, push.method, push.last_error) == ("pending", "PUT", "timeout")
    assert send_pending(now=utcnow() + timedelta(minutes=5))["sent"] == 1
    assert [(c.method, c.status) for c in fake.calls] == [("POST", "booked"), ("PUT", "booked")]
    assert len(fake.appointments) == 1 and len(fake.created) == 1


def test_attempts_are_bounded_then_the_call_fails_for_good(world, area, fake, app):
    app.config["SAS_PUSH_MAX_ATTEMPTS"] = 3
    fake.stop()
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)))
    clock = utcnow()
    outcomes = []
    for _ in range(4):
        clock += timedelta(hours=1)
        outcomes.append(send_pending(now=clock))
    assert [o["retried"] for o in outcomes] == [1, 1, 0, 0] and outcomes[2]["failed"] == 1
    push = db.session.scalar(select(SasPush))
    assert (push.status, push.attempts, push.last_error) == ("failed", 3, "network")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sas_push.failed")) is not None


def test_the_platform_refuses_a_certificate_it_does_not_trust(world, area, app, tmp_path):
    stranger_cert, stranger_key = CertificateAuthority(tmp_path, "stranger").issue(OUR_CN, "SNP")
    app.config.update(SAS_CLIENT_CERT=str(stranger_cert), SAS_CLIENT_KEY=str(stranger_key))
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)))
    assert send_pending()["retried"] == 1
    push = db.session.scalar(select(SasPush))
    assert push.status == "pending" and push.last_error in ("tls", "network")


def test_no_platform_configured_nothing_queued(world, area, app):
    app.config["SAS_API_URL"] = None
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)))
    assert db.session.scalar(select(func.count()).select_from(SasPush)) == 0


def test_the_coordinator_sees_the_calls_on_the_sms_page(client, world, area, fake):
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)))
    send_pending()
    fake.stop()
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=4)))
    send_pending()
    sign_in(client, area["coordinator"])
    page = client.get("/coordination/sms").get_data(as_text=True)
    section = page[page.index("Rendez-vous transmis à la plateforme SAS"):]
    assert section.count('data-sas-push-id') == 2
    assert "Transmis" in section and "En attente" in section and "network" in section


def test_push_channels_may_come_as_one_string(world, area, app, monkeypatch):
    monkeypatch.setenv("SNP_SAS_PUSH_CHANNELS", "sas")  # not JSON: kept as text, a list once the configuration is loaded
    app.config["SAS_PUSH_CHANNELS"] = load_config("testing")["SAS_PUSH_CHANNELS"]
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=3)), channel="116117")
    _book(area, world.slot(area["doctor"], utcnow() + timedelta(hours=4)), channel="sas")
    assert [p.event for p in db.session.scalars(select(SasPush))] == ["booked"]
