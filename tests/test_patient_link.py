"""The patient's own link (issue 24, item 2): /r/<secret> from the confirmation, move and reminder SMS."""
from __future__ import annotations

import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from snp_service.bookings import booking as bookings
from snp_service.core.extensions import db
from snp_service.core.secret_masking import MASK
from snp_service.core.timeutil import to_paris, utcnow
from snp_service.models import AuditEvent, Booking, OutboxMessage, PatientLink, Slot
from snp_service.notify.backends import memory_store
from snp_service.notify.sender import send_pending

from .factories import page_csrf

PATIENT = {"first_name": "Jeanne", "last_name": "Durand", "birth_date": date(1950, 4, 2), "phone": "06 12 34 56 78",
           "commune_insee": "85222", "has_treating_doctor": "yes", "treating_rpps": None}
LINK = re.compile(r"http://127\.0\.0\.1:5000(/r/[A-Za-z0-9_-]+)")


@pytest.fixture
def area(world):
    cpts = world.cpts()
    doctor = world.practitioner(cpts, last_name="Martin")
    doctor.phone, doctor.address = "+33698765432", "12 rue du Port, Saint-Gilles"
    db.session.commit()
    return {"cpts": cpts, "doctor": doctor, "regulator": world.user("regulator", cpts)}


def _book(area, world, start=None, notify_patient=True) -> tuple[Booking, str]:
    slot = world.slot(area["doctor"], start or utcnow() + timedelta(days=2))
    booking, _ = bookings.book(area["regulator"], {"slot_id": slot.id, "patient": dict(PATIENT), "channel": "116117",
                                                   "reason": "Fièvre depuis 2 jours", "notify_patient": notify_patient})
    return booking, _link_of(booking.id)


def _link_of(booking_id: int, kind: str | None = None) -> str | None:
    query = select(OutboxMessage.body).where(OutboxMessage.booking_id == booking_id, OutboxMessage.recipient == "patient")
    bodies = db.session.scalars(query.where(OutboxMessage.kind == kind) if kind else query).all()
    found = [LINK.search(body) for body in bodies if body]
    return next((match.group(1) for match in found if match), None)


def test_the_page_shows_the_appointment_and_nothing_of_the_patient(client, world, area):
    booking, path = _book(area, world)

    page = client.get(path)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Votre rendez-vous" in html and "Dr Alex Martin" in html and "12 rue du Port, Saint-Gilles" in html
    assert "Annuler mon rendez-vous" in html
    for personal in ("Jeanne", "Durand", "1950", "06 12", "+336", "Fièvre"):
        assert personal not in html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert not re.search(r'(src|href)="https?://(?!127\.0\.0\.1)', html)  # nothing from another host
    stored = db.session.scalars(select(PatientLink.secret_hash)).all()
    assert len(stored) == 1 and path.removeprefix("/r/") not in stored[0] and len(stored[0]) == 64


def test_cancelling_takes_a_confirmation_step_then_frees_the_slot_and_tells_the_practitioner(client, world, area):
    booking, path = _book(area, world)
    step = client.get(f"{path}/annuler")
    assert step.status_code == 200 and "Oui, annuler mon rendez-vous" in step.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "booked"  # the GET changed nothing

    done = client.post(f"{path}/annuler", data={"csrf_token": page_csrf(client, path)})

    assert done.status_code == 200
    assert "Rendez-vous annulé. Besoin d'un médecin ? Appelez le" in done.get_data(as_text=True)
    db.session.expire_all()
    cancelled = db.session.get(Booking, booking.id)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "patient")
    assert db.session.get(Slot, booking.slot_id).status == "free"
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)).all()
    assert "gp_cancellation" in kinds and "patient_cancellation" not in kinds
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.cancel"))
    assert event.actor_label == "patient_link" and event.after["by"] == "patient"
    assert client.get(path).status_code == 404  # a used link is dead


def test_a_cancel_without_the_csrf_token_changes_nothing(client, world, area):
    booking, path = _book(area, world)
    assert client.post(f"{path}/annuler").status_code == 400
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "booked"


def test_confirming_is_offered_from_the_reminder_on_and_shows_confirme(client, world, area, app):
    early, early_path = _book(area, world, start=utcnow() + timedelta(days=2))
    soon, soon_path = _book(area, world, start=utcnow() + timedelta(minutes=90))  # within the 2-hour reminder lead

    assert "Je confirme ma venue" not in client.get(early_path).get_data(as_text=True)
    client.post(f"{early_path}/confirmer", data={"csrf_token": page_csrf(client, early_path)})
    page = client.get(soon_path).get_data(as_text=True)
    assert "Je confirme ma venue" in page
    confirmed = client.post(f"{soon_path}/confirmer", data={"csrf_token": page_csrf(client, soon_path)})

    assert confirmed.status_code == 200 and "confirmé" in confirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, early.id).confirmed_at is None
    assert db.session.get(Booking, soon.id).confirmed_at is not None
    assert db.session.scalar(select(AuditEvent.actor_label).where(AuditEvent.action == "booking.confirm")) == "patient_link"


@pytest.mark.parametrize("path", ["/r/AAAAAAAAAAAAAAAAAAAAAA", "/r/x", "/r/" + "A" * 300, "/r/AAAAAAAAAAAAAAAAAAAAAA/annuler"])
def test_a_wrong_link_is_a_french_404_that_says_nothing_more(client, path):
    page = client.get(path)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Ce lien n'est pas valable." in html and "Lien introuvable" in html


def test_a_link_dies_when_its_slot_has_ended_or_its_booking_is_cancelled(client, world, area):
    ended, ended_path = _book(area, world, start=utcnow() + timedelta(minutes=30))
    cancelled, cancelled_path = _book(area, world)
    db.session.get(Slot, ended.slot_id).end_at = utcnow() - timedelta(minutes=1)
    db.session.get(Slot, ended.slot_id).start_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    bookings.cancel(area["regulator"], cancelled.id)

    assert client.get(ended_path).status_code == 404
    assert client.get(cancelled_path).status_code == 404
    assert client.post(f"{cancelled_path}/annuler", data={"csrf_token": page_csrf(client, "/login")}).status_code == 404


def test_the_first_link_follows_a_silent_move_and_a_moves_sms_carries_a_new_one(client, world, area):
    booking, first_path = _book(area, world)
    silent = bookings.move(area["regulator"], booking.id, world.slot(area["doctor"], utcnow() + timedelta(days=3)).id,
                           notify_patient=False)
    page = client.get(first_path).get_data(as_text=True)
    assert _link_of(silent.id) is None and "Votre rendez-vous" in page

    told = bookings.move(area["regulator"], silent.id, world.slot(area["doctor"], utcnow() + timedelta(days=4)).id)
    new_path = _link_of(told.id, "patient_move")
    assert new_path and new_path != first_path
    assert client.get(new_path).status_code == 200 and client.get(first_path).status_code == 200


def test_the_page_is_rate_limited_per_address(client, app):
    app.config["RATELIMIT_PATIENT_LINK_PER_ADDRESS"] = "5 per 10 minutes"
    answers = [client.get("/r/AAAAAAAAAAAAAAAAAAAAAA").status_code for _ in range(6)]
    other = app.test_client().get("/r/AAAAAAAAAAAAAAAAAAAAAA", environ_base={"REMOTE_ADDR": "10.0.0.9"})

    assert answers == [404] * 5 + [429]
    assert other.status_code == 404  # another address keeps its own budget


def test_the_secret_is_kept_only_until_the_provider_has_the_text_and_a_resend_gets_a_new_link(world, area, app):
    from snp_service.notify import outbox

    booking, path = _book(area, world)
    send_pending()
    sent = [sms.body for sms in memory_store(app)["sent"] if path in sms.body]
    assert len(sent) == 1  # the patient got the live link
    confirmation = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "patient_confirmation"))
    assert path not in confirmation.body and f"/r/{MASK}" in confirmation.body

    confirmation.status = "undelivered"
    db.session.commit()
    resent = outbox.resend("test", confirmation.id, None)
    new_path = LINK.search(resent.body).group(1)
    assert new_path != path and db.session.scalar(select(PatientLink.id).where(PatientLink.booking_id == booking.id)
                                                   .order_by(PatientLink.id.desc()).limit(1))


def test_the_secret_is_absent_from_the_apps_logs(client, world, area, app, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    app.config["SMS_BACKEND"] = "console"
    booking, path = _book(area, world)
    secret = path.removeprefix("/r/")
    logging.getLogger("snp_service.test").error("Exception on %s [GET]", path)  # as Flask words an error
    client.get(path)
    send_pending()

    printed = capsys.readouterr()
    assert "Dr Alex Martin" in printed.out  # the console backend did print the texts
    assert secret not in caplog.text + printed.out + printed.err
    assert f"/r/{MASK}" in caplog.text and f"/r/{MASK}" in printed.out


def test_a_confirmation_shows_confirme_on_the_gp_page_the_console_and_the_grid(client, world, area, app):
    from flask import g

    from .factories import World

    start = utcnow() + timedelta(minutes=90)  # tomorrow's in the late evening: the list is asked for its hours
    booking, path = _book(area, world, start=start)
    client.post(f"{path}/confirmer", data={"csrf_token": page_csrf(client, path)})
    gp = world.user("gp", area["cpts"], area["doctor"])

    g.pop("_login_user", None)  # the test's app context is shared by its requests: forget the anonymous visitor
    World.sign_in_page(client, gp)
    assert 'class="badge status-confirmed">confirmé' in client.get("/gp").get_data(as_text=True)
    day = {"from": (start - timedelta(hours=1)).isoformat(), "to": (start + timedelta(hours=1)).isoformat()}
    listed = client.get("/api/v1/bookings", query_string=day, headers=world.headers(area["regulator"])).get_json()
    assert [b["confirmed_at"] is not None for b in listed] == [True]
    g.pop("_login_user", None)
    World.sign_in_page(client, area["regulator"])
    grid = client.get("/regulation/agenda.json", query_string={"day": to_paris(start).date().isoformat()},
                      headers={"Accept": "application/json"}).get_json()
    assert [(s["id"], s["confirmed"]) for s in grid["slots"]] == [(booking.slot_id, True)]
