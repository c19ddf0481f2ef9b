"""The patient's own link to their booking (``<PUBLIC_URL>/r/<secret>``), carried by the confirmation, move
and reminder SMS: no sign-in, the secret is the only credential.

Each SMS gets a new link of 128 random bits (``secrets.token_urlsafe(16)``); only its SHA-256 is stored
(``PatientLink``). A link follows its booking through the moves (the patient keeps the first SMS after a
move made without one) and is dead once the booking is cancelled or its slot has ended: then, as for a
wrong secret, ``NotFound`` says nothing more. Through it the patient cancels (``cancelled_by`` patient,
the practitioner told as for any cancel) and, from the time the reminder is due, confirms they will come
(``confirmed_at``). Nothing of the patient is ever shown or returned.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit
from ..accounts.tokens import secret_hash
from ..core.database import write_transaction
from ..core.errors import NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Booking, BookingStatus, PatientLink, Slot
from . import booking as bookings

PATH = "/r/"
# Who the audit names for what the patient did through the link: the link, never the person.
ACTOR = "patient_link"
# A chain of moves longer than this is not followed (each move needs a regulator's action).
MAX_MOVES_FOLLOWED = 50


def issue(booking: Booking) -> str:
    """A new link to ``booking``, inside the caller's transaction; returns its URL (the secret is not kept)."""
    secret = secrets.token_urlsafe(16)
    db.session.add(PatientLink(booking_id=booking.id, secret_hash=secret_hash(secret), created_at=utcnow()))
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{PATH}{secret}"


@dataclass(frozen=True)
class PatientView:
    """What the patient's page shows: the appointment, never the patient."""

    start_at: datetime
    end_at: datetime
    practitioner: str
    mode: str
    address: str | None
    confirmed: bool
    can_confirm: bool


def view(secret: str) -> PatientView:
    booking = _live(secret)
    slot = booking.slot
    return PatientView(slot.start_at, slot.end_at, slot.practitioner.display_name, slot.mode,
                       slot.practitioner.address, booking.confirmed_at is not None, _confirm_open(booking))


def cancel(secret: str) -> None:
    """The patient cancels: the slot is free again if it has not started; the practitioner is told by SMS."""
    with write_transaction():
        booking = _live(secret)
        bookings.cancel_for_patient_link(ACTOR, booking)


def confirm(secret: str) -> PatientView:
    """The patient says they will come (from the time the reminder is due); confirming twice changes nothing."""
    with write_transaction():
        booking = _live(secret)
        if booking.confirmed_at is None and _confirm_open(booking):
            booking.confirmed_at = utcnow()
            audit.record(ACTOR, "booking.confirm", booking, after={"confirmed_at": booking.confirmed_at.isoformat()})
    return view(secret)


def _confirm_open(booking: Booking) -> bool:
    """Confirming is offered from the time the reminder is due (``REMINDER_BEFORE_MINUTES``): earlier, a yes says little."""
    lead = timedelta(minutes=current_app.config["REMINDER_BEFORE_MINUTES"])
    return utcnow() >= booking.slot.start_at - lead


def _live(secret: str) -> Booking:
    """The active booking the link leads to, after the moves it went through; NotFound otherwise."""
    booking_id = db.session.scalar(select(PatientLink.booking_id).where(
        PatientLink.secret_hash == secret_hash(secret or ""))) if 16 <= len(secret or "") <= 64 else None
    booking = _load(booking_id) if booking_id is not None else None
    for _ in range(MAX_MOVES_FOLLOWED):
        if booking is None or booking.status == BookingStatus.BOOKED:
            break
        successor = db.session.scalar(select(Booking.id).where(Booking.replaces_booking_id == booking.id))
        booking = _load(successor) if successor is not None else None
    if booking is None or booking.status != BookingStatus.BOOKED or booking.slot.end_at <= utcnow():
        raise NotFound("Ce lien n'est pas valable.", code="patient_link_invalid")
    return booking


def _load(booking_id: int) -> Booking | None:
    return db.session.get(Booking, booking_id, options=[joinedload(Booking.slot).joinedload(Slot.practitioner)],
                          populate_existing=True)
