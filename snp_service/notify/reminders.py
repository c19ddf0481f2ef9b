"""Reminder SMS before the appointment (``REMINDER_BEFORE_MINUTES``, default 2 h).

Never for a slot already started, never for a booking made less than that
ahead (the confirmation has just said it all), never to a patient who was not
texted about the booking (``notify_patient`` false), never twice: the outbox
holds at most one reminder per booking (unique index), so the job may run as
often as it likes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased, joinedload

from .. import audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Booking, BookingStatus, OutboxMessage, Slot
from .events import to_patient

ACTOR = "job:send_reminders"


def enqueue_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminders now due; returns how many."""
    now = now or utcnow()
    lead = timedelta(minutes=current_app.config["REMINDER_BEFORE_MINUTES"])
    queued = 0
    with write_transaction():
        for booking in _bookings_due(now, lead):
            if booking.created_at > booking.slot.start_at - lead:
                continue
            queued += to_patient("patient_reminder", booking)
        if queued:
            audit.record(ACTOR, "outbox.reminders", "outbox_message", after={"queued": queued})
    return queued


def _bookings_due(now: datetime, lead: timedelta) -> list[Booking]:
    told = aliased(OutboxMessage)
    reminded = aliased(OutboxMessage)
    query = (
        select(Booking).join(Booking.slot)
        .options(joinedload(Booking.slot).joinedload(Slot.practitioner), joinedload(Booking.patient))
        .where(Booking.status == BookingStatus.BOOKED, Slot.start_at > now, Slot.start_at <= now + lead)
        .where(exists().where(and_(told.booking_id == Booking.id,
                                   told.kind.in_(("patient_confirmation", "patient_move")))))
        .where(~exists().where(and_(reminded.booking_id == Booking.id, reminded.kind == "patient_reminder")))
    )
    return list(db.session.scalars(query).unique())
