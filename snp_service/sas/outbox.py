"""Appointments for the SAS platform, queued in the transaction of the booking change (INT_R03).

``enqueue(booking, event)`` is the booking service's one call per state change: booked, cancelled,
honored, no_show, moved (the new booking, with the one it replaces). Only bookings whose channel is in
``SAS_PUSH_CHANNELS`` are sent, and only when ``SAS_API_URL`` is set. The first call of an appointment
is a POST; every later one a conditional PUT on the appointment's identifier, which a move keeps. The
body is built now, so each call carries the appointment as it was at that change; they leave after the
commit (``sender``), in order.
"""
from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import select

from ..core import delivery
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Booking, SasAppointment, SasPush, members_of
from . import appointments

# The name under which a transaction marks that it queued calls (``core.delivery.mark_queued``).
OUTBOX = "sas"


def enqueue(booking: Booking, event: str, previous: Booking | None = None) -> SasPush | None:
    """Queue the call that tells the platform about ``event``; None when the booking is none of its business."""
    config = current_app.config
    if not config.get("SAS_API_URL") or booking.channel not in config["SAS_PUSH_CHANNELS"]:
        return None
    slot = booking.slot
    if event == "booked":
        appointment = SasAppointment(identifier=str(uuid.uuid4()), booking_id=booking.id,
                                     practitioner_id=slot.practitioner_id)
        db.session.add(appointment)
        db.session.flush()
    else:
        appointment = db.session.scalar(select(SasAppointment).where(
            SasAppointment.booking_id == (previous or booking).id))
        if appointment is None:
            return None  # booked before the link to the platform: it never heard of it
        if event == "moved":
            appointment.booking_id, appointment.practitioner_id = booking.id, slot.practitioner_id
    body = appointments.appointment(appointment.identifier, event, slot.start_at, slot.end_at,
                                    slot.practitioner.rpps, booking.booked_by_id)
    push = SasPush(appointment_id=appointment.id, event=event, method="POST" if event == "booked" else "PUT",
                   body=body, next_attempt_at=utcnow())
    db.session.add(push)
    delivery.mark_queued(db.session, OUTBOX)
    return push


def recent_pushes(cpts_ids: set[int] | None, limit: int = 100) -> list[SasPush]:
    """The last calls about practitioners of ``cpts_ids`` (``None``: all), newest first."""
    query = (select(SasPush).join(SasAppointment, SasAppointment.id == SasPush.appointment_id)
             .order_by(SasPush.created_at.desc(), SasPush.id.desc()).limit(limit))
    if cpts_ids is not None:
        query = query.where(SasAppointment.practitioner_id.in_(members_of(cpts_ids)))
    return list(db.session.scalars(query))
