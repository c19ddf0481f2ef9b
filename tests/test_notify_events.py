"""What the outbox holds after a booking, a cancellation, a move or a reminder run (memory backend)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from snp_service.core.database import write_transaction
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import AuditEvent, Booking, OutboxMessage, Patient
from snp_service.notify import events, messages
from snp_service.notify.backends import memory_store
from snp_service.notify.reminders import enqueue_due_reminders
from snp_service.notify.sender import send_pending

# Monday 15 July 2030, 14:30 in Paris.
START = datetime(2030, 7, 15, 12, 30, tzinfo=timezone.utc)
GP_MOBILE = "+33698765432"


@pytest.fixture
def gp(world):
    practitioner = world.practitioner(world.cpts(), last_name="Martin")
    practitioner.phone, practitioner.address = GP_MOBILE, "12 rue du Port, Saint-Gilles"
    db.session.commit()
    return practitioner


def book(slot, phone="+33612345678", notify_patient=True, created_at=None) -> Booking:
    with write_transaction():
        patient = Patient(first_name="Jeanne", last_name="Durand", phone=phone, has_treating_doctor="no")
        booking = Booking(slot=slot, patient=patient, channel="116117", has_treating_doctor="no",
                          created_at=created_at or utcnow())
        slot.status = "booked"
        db.session.add(booking)
        db.session.flush()
        events.booking_created(booking, notify_patient)
    return booking


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_booking_queues_patient_confirmation_and_gp_alert(world, gp):
    booking = book(world.slot(gp, start=START))

    confirmation, alert = outbox()
    assert (confirmation.kind, confirmation.to_phone, confirmation.status) == ("patient_confirmation", "+33612345678", "pending")
    text, secret = confirmation.body.rsplit("/", 1)
    assert text == ("RDV le lun. 15/07 à 14h30 avec Dr Alex Martin, 12 rue du Port, Saint-Gilles. "
                    "Annuler : http://127.0.0.1:5000/r")
    assert len(secret) == 22  # 128 random bits, base64url: the patient's own link (only its hash is stored)
    assert (alert.kind, alert.to_phone, alert.booking_id) == ("gp_new_booking", GP_MOBILE, booking.id)
    assert alert.body == "SNP : votre créneau du lun. 15/07 à 14h30 est réservé (116 117). Détails : http://127.0.0.1:5000/gp"
    assert "Jeanne" not in alert.body and "Durand" not in alert.body


def test_every_text_fits_one_gsm7_segment_with_a_typical_address(world, gp, app):
    app.config["PUBLIC_URL"] = "https://snp.cpts-sud-vendee.fr"
    gp.first_name, gp.last_name, gp.address = "Hélène", "Lefèvre-Château", "12 rue de l’Église, Croix-de-Vie"
    booking = book(world.slot(gp, start=START))
    moved = book(world.slot(gp, start=START + timedelta(hours=1)), notify_patient=False)
    with write_transaction():
        events.to_patient("patient_reminder", booking)
        events.to_patient("patient_move", moved)
        events.booking_cancelled(booking)

    for message in outbox():
        sent = message.body + messages.reference(999_999)  # as it leaves: ended by its outbox reference
        assert messages.to_gsm7(sent) == sent, message.kind
        assert messages.gsm7_length(sent) <= 160, message.kind
    # With the patient's link, this address would take a second segment: the link's page shows it instead.
    assert "Lefèvre-Chateau. Annuler : https://snp.cpts-sud-vendee.fr/r/" in outbox()[0].body
    assert "Lefèvre-Chateau. Confirmer : https://snp.cpts-sud-vendee.fr/r/" in outbox()[3].body


def test_a_short_address_stays_in_the_text_beside_the_link(world, gp, app):
    app.config["PUBLIC_URL"] = "https://snp.cpts-sud-vendee.fr"
    book(world.slot(gp, start=START))
    assert ", 12 rue du Port, Saint-Gilles. Annuler : https://snp.cpts-sud-vendee.fr/r/" in outbox()[0].body


def test_notify_patient_false_or_landline_sends_the_patient_nothing(world, gp):
    book(world.slot(gp, start=START), notify_patient=False)
    book(world.slot(gp, start=START + timedelta(hours=1)), phone="+33251998877")
    book(world.slot(gp, start=START + timedelta(hours=2)), phone=None)

    assert [m.kind for m in outbox()] == ["gp_new_booking"] * 3


def test_rolled_back_booking_leaves_nothing_to_send(world, gp, app):
    slot = world.slot(gp, start=START)
    with pytest.raises(RuntimeError):
        with write_transaction():
            booking = Booking(slot=slot, patient=Patient(phone="+33612345678"), channel="116117")
            db.session.add(booking)
            db.session.flush()
            events.booking_created(booking, True)
            raise RuntimeError("the booking failed after queuing its messages")

    assert outbox() == []
    assert send_pending()["sent"] == 0
    assert memory_store(app)["sent"] == []


def test_cancellation_tells_patient_only_if_they_were_told_of_the_booking(world, gp):
    told = book(world.slot(gp, start=START))
    silent = book(world.slot(gp, start=START + timedelta(hours=1)), notify_patient=False)
    with write_transaction():
        events.booking_cancelled(told)
        events.booking_cancelled(silent)

    kinds = [(m.booking_id, m.kind) for m in outbox() if m.kind.endswith("cancellation")]
    assert kinds == [(told.id, "patient_cancellation"), (told.id, "gp_cancellation"), (silent.id, "gp_cancellation")]
    assert outbox()[-3].body.startswith("Votre RDV du lun. 15/07 à 14h30 avec Dr Alex Martin est annulé.")


def test_move_to_another_gp_alerts_both_and_texts_the_patient_once(world, gp):
    other = world.practitioner(gp.cpts[0], last_name="Bernard")
    other.phone = "+33611111111"
    old = book(world.slot(gp, start=START))
    new_slot = world.slot(other, start=START + timedelta(days=1))
    with write_transaction():
        old.status = "cancelled"
        new = Booking(slot=new_slot, patient=old.patient, channel="116117")
        db.session.add(new)
        db.session.flush()
        events.booking_moved(old, new, True)

    moved = [(m.kind, m.to_phone) for m in outbox()[2:]]
    assert moved == [("patient_move", "+33612345678"), ("gp_cancellation", GP_MOBILE), ("gp_new_booking", "+33611111111")]
    assert "RDV déplacé au mar. 16/07 à 14h30 avec Dr Alex Bernard" in outbox()[2].body


def test_reminder_two_hours_before_only_once(world, gp, app):
    now = START - timedelta(minutes=100)
    book(world.slot(gp, start=START), created_at=START - timedelta(days=1))

    assert enqueue_due_reminders(now=now) == 1
    assert enqueue_due_reminders(now=now + timedelta(minutes=5)) == 0
    reminder = outbox()[-1]
    assert reminder.kind == "patient_reminder"
    assert reminder.body.startswith("Rappel : RDV le lun. 15/07 à 14h30 avec Dr Alex Martin")
    assert send_pending(now=now)["sent"] == 3
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.reminders")).after == {"queued": 1}


def test_no_reminder_too_early_when_booked_late_started_or_unwanted(world, gp):
    now = START - timedelta(minutes=100)
    book(world.slot(gp, start=START + timedelta(hours=3)), created_at=START - timedelta(days=1))  # not due yet
    book(world.slot(gp, start=START), created_at=now - timedelta(minutes=10))  # booked 110 min ahead
    book(world.slot(gp, start=now - timedelta(minutes=5)), created_at=START - timedelta(days=1))  # started
    book(world.slot(gp, start=START + timedelta(minutes=15)), notify_patient=False,
         created_at=START - timedelta(days=1))

    assert enqueue_due_reminders(now=now) == 0


def test_reminder_configurable_and_dropped_if_booking_cancelled_before_sending(world, gp, app):
    app.config["REMINDER_BEFORE_MINUTES"] = 24 * 60
    booking = book(world.slot(gp, start=START), created_at=START - timedelta(days=3))
    now = START - timedelta(hours=20)
    assert enqueue_due_reminders(now=now) == 1
    with write_transaction():
        booking.status = "cancelled"

    counts = send_pending(now=now)

    assert counts["skipped"] == 1
    assert [sms.body[:6] for sms in memory_store(app)["sent"]] == ["RDV le", "SNP : "]
    assert {m.kind: m.status for m in outbox()}["patient_reminder"] == "skipped"


def test_masked_number_keeps_only_country_first_and_last_digits():
    assert messages.mask_phone("+33612345678") == "+33 6 •• •• •• 78"
    assert messages.mask_phone("0612345678") == "+33 6 •• •• •• 78"
    assert messages.mask_phone(None) == "—"


def test_a_cancel_after_a_silent_move_tells_the_patient_who_had_the_first_sms(world, gp):
    """The patient was texted about the first booking; a move without SMS, then a cancel: the patient hears of it."""
    from snp_service.bookings import booking as bookings

    regulator = world.user("regulator", gp.cpts[0])
    first = world.slot(gp, start=START)
    told = book(first)
    told.cpts_id = gp.cpts[0].id
    db.session.commit()
    moved = bookings.move(regulator, told.id, world.slot(gp, start=START + timedelta(hours=1)).id, notify_patient=False)
    assert [m.kind for m in outbox() if m.recipient == "patient"] == ["patient_confirmation"]

    bookings.cancel(regulator, moved.id)

    cancel, = [m for m in outbox() if m.kind == "patient_cancellation"]
    assert (cancel.booking_id, cancel.to_phone) == (moved.id, "+33612345678")
    assert cancel.body.startswith("Votre RDV du lun. 15/07 à 15h30 avec Dr Alex Martin est annulé.")


def test_a_cancel_after_a_silent_move_of_a_silent_booking_texts_nobody(world, gp):
    from snp_service.bookings import booking as bookings

    regulator = world.user("regulator", gp.cpts[0])
    silent = book(world.slot(gp, start=START), notify_patient=False)
    silent.cpts_id = gp.cpts[0].id
    db.session.commit()
    moved = bookings.move(regulator, silent.id, world.slot(gp, start=START + timedelta(hours=1)).id, notify_patient=False)
    bookings.cancel(regulator, moved.id)

    assert [m for m in outbox() if m.recipient == "patient"] == []
