"""What the domain tells the notification outbox. Called inside the service's transaction.

Each function only adds outbox rows to the current session: nothing is sent
before the commit, so a rolled-back booking never texts anybody.
"""
from __future__ import annotations

from flask import current_app

from ..models import Booking, Practitioner
from . import messages, outbox


def booking_created(booking: Booking, notify_patient: bool) -> None:
    """A slot was booked: patient confirmation (if wanted and possible), alert to the GP."""
    if notify_patient:
        to_patient("patient_confirmation", booking)
    to_practitioner("gp_new_booking", booking, channel=messages.channel_label(booking.channel))


def booking_cancelled(booking: Booking) -> None:
    """A booking was cancelled: tell the patient (if they were told of it) and the GP."""
    if outbox.patient_was_notified(booking):
        to_patient("patient_cancellation", booking)
    to_practitioner("gp_cancellation", booking)


def booking_moved(old_booking: Booking, new_booking: Booking, notify_patient: bool) -> None:
    """A booking moved to another slot: one message to the patient with the new time, alert to both GPs."""
    if notify_patient:
        to_patient("patient_move", new_booking)
    if old_booking.slot.practitioner_id == new_booking.slot.practitioner_id:
        to_practitioner("gp_move", new_booking, old_when=messages.when(old_booking.slot.start_at))
    else:
        to_practitioner("gp_cancellation", old_booking)
        to_practitioner("gp_new_booking", new_booking, channel=messages.channel_label(new_booking.channel))


def slot_request_sent(request_id: int, recipients: list[tuple[int, str | None]], commune: str, window: str) -> int:
    """A slot request went out: each recipient ``(practitioner id, phone)`` with a mobile number gets the link to
    its page (no patient data); one text for all, written in one statement."""
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/gp/demandes/{request_id}"
    body = messages.render("gp_slot_request", commune=commune, window=window, link=link)
    phones = [(practitioner_id, mobile) for practitioner_id, phone in recipients
              if (mobile := messages.mobile_e164(phone))]
    outbox.enqueue_many("gp_slot_request", "practitioner", body, phones)
    return len(phones)


def to_patient(kind: str, booking: Booking) -> bool:
    """Queue a patient message; False when the patient has no mobile number to text."""
    patient = booking.patient
    if patient is None or not messages.is_mobile(patient.phone):
        return False
    slot = booking.slot
    practitioner: Practitioner = slot.practitioner
    # Imported here: the bookings package calls this module, and the link is a booking's.
    from ..bookings import patient_link
    link = patient_link.issue(booking) if kind in messages.WITH_PATIENT_LINK else None
    body = messages.render_for_patient(kind, when=messages.when(slot.start_at), doctor=practitioner.display_name,
                                       place=messages.place(slot.mode, practitioner.address), link=link)
    outbox.enqueue(kind, "patient", booking, messages.e164(patient.phone), body)
    return True


def to_practitioner(kind: str, booking: Booking, **values) -> bool:
    """Queue an alert to the slot's practitioner, without any patient identity or reason."""
    slot = booking.slot
    phone = slot.practitioner.phone
    if not messages.is_mobile(phone):
        return False
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/gp"
    body = messages.render(kind, when=messages.when(slot.start_at), link=link, **values)
    outbox.enqueue(kind, "practitioner", booking, messages.e164(phone), body)
    return True
