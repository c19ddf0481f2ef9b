"""Patient data retention (GDPR): identity is erased a configurable time after the slot.

The booking keeps what the reports need (channel, status, outcome,
``has_treating_doctor``, ``by_treating_doctor``), so every count stays the same.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Booking, OutboxMessage, Patient, Slot, SlotRequest


def purge_patient_data(actor: str = "job:purge_patient_data", now: datetime | None = None) -> dict:
    """Erase the identity of patients whose every booking is for a slot older than the retention period."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["PATIENT_RETENTION_DAYS"])
    old_bookings = select(Booking.id).join(Slot, Slot.id == Booking.slot_id).where(Slot.start_at < cutoff)
    # A patient booked again recently keeps their identity until that booking is old too.
    recent = (select(Booking.patient_id).join(Slot, Slot.id == Booking.slot_id)
              .where(Slot.start_at >= cutoff, Booking.patient_id.isnot(None)))
    # A slot request's patient follows the same rule: its window's end counts as the slot (an accepted request
    # shares its patient with its booking, whose slot lies inside that window).
    old_requests = select(SlotRequest.id).where(SlotRequest.not_after < cutoff)
    with write_transaction():
        patients = db.session.execute(
            update(Patient)
            .where(Patient.erased_at.is_(None),
                   Patient.id.in_(select(Booking.patient_id).where(Booking.id.in_(old_bookings)))
                   | Patient.id.in_(select(SlotRequest.patient_id).where(SlotRequest.id.in_(old_requests))),
                   Patient.id.not_in(recent))
            .values(first_name=None, last_name=None, birth_date=None, phone=None, treating_rpps=None, erased_at=now)
        ).rowcount
        # Free-text reasons may name people or describe symptoms: they go with the identity.
        reasons = db.session.execute(
            update(Booking)
            .where(Booking.id.in_(old_bookings), (Booking.reason.isnot(None)) | (Booking.cancel_reason.isnot(None)))
            .values(reason=None, cancel_reason=None)
        ).rowcount + db.session.execute(
            update(SlotRequest).where(SlotRequest.id.in_(old_requests), SlotRequest.reason.isnot(None))
            .values(reason=None)
        ).rowcount
        # The SMS texts and numbers of those bookings carry the same identity.
        messages = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.booking_id.in_(old_bookings), OutboxMessage.to_phone.isnot(None))
            .values(to_phone=None, body=None)
        ).rowcount
        if patients or reasons or messages:
            audit.record(actor, "patient.erase", Patient.__tablename__,
                         after={"patients": patients, "booking_reasons": reasons, "sms": messages,
                                "slots_before": cutoff.isoformat()})
    return {"patients": patients, "booking_reasons": reasons, "sms": messages}
