"""Answering a slot request: accept (its slot and booking in one transaction), cancel, seen, expiry.

Exactly one acceptance wins: the accept first claims the request with a guarded
``UPDATE ... WHERE status = 'open' AND expires_at > now``, whose row count decides (on PostgreSQL a
concurrent accept waits for the row, then finds it no longer open); ``uq_slot_request_booking`` is the
backstop. Everything the accept writes (the claim, the slot, the booking, the SMS) commits or rolls back
together: an accept refused for an overlap leaves the request open for the others.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..core.database import constraint_name, write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.fast_paths import insert_row
from ..core.timeutil import utcnow
from ..models import (Booking, Patient, Practitioner, Slot, SlotRequest, SlotRequestRecipient, SlotRequestStatus,
                      SlotStatus, User)
from ..notify import events
from ..policy import slot_request_visible
from ..sas import outbox as sas_outbox
from ..slots.publishing import overlap_conflict

DEFAULT_SLOT_MINUTES = 15
# The usual length: the most common one among the practitioner's latest slots.
USUAL_LENGTH_SAMPLE = 20


def request_closed() -> Conflict:
    return Conflict("Demande pourvue ou close : un autre professionnel a déjà accepté, ou elle a expiré",
                    code="request_closed", fields={"status": ["not open"]})


def load(actor: User, request_id: int) -> SlotRequest:
    """The request, if ``actor`` may see it (404 otherwise: its existence is not told)."""
    request = db.session.get(SlotRequest, request_id, populate_existing=True)  # its status as stored now
    recipient_ids = () if request is None else db.session.scalars(
        select(SlotRequestRecipient.practitioner_id).where(SlotRequestRecipient.request_id == request_id)).all()
    if request is None or not slot_request_visible(actor, request.cpts_id, set(recipient_ids)):
        raise NotFound("Demande introuvable", fields={"id": ["unknown or not sent to you"]})
    return request


def usual_length(practitioner_id: int) -> timedelta:
    """The practitioner's usual slot length: the most common of their latest slots, else 15 minutes."""
    rows = db.session.execute(select(Slot.start_at, Slot.end_at).where(Slot.practitioner_id == practitioner_id)
                              .order_by(Slot.start_at.desc()).limit(USUAL_LENGTH_SAMPLE)).all()
    lengths = Counter(end - start for start, end in rows)
    return lengths.most_common(1)[0][0] if lengths else timedelta(minutes=DEFAULT_SLOT_MINUTES)


def accept(actor: User, request_id: int, start: datetime) -> Booking:
    """The GP ``actor`` accepts: their slot at ``start`` and the booking of the request's patient, or nothing."""
    request = load(actor, request_id)  # a GP who is a recipient (the view allowed GPs only)
    practitioner = db.session.get(Practitioner, actor.practitioner_id)
    now = utcnow()
    if request.status != SlotRequestStatus.OPEN or request.expires_at <= now:
        raise request_closed()
    end = start + usual_length(practitioner.id)
    if start < max(request.not_before, now) or end > request.not_after:
        raise Invalid("L'heure choisie doit être dans la période demandée (et pas déjà passée)",
                      fields={"start": ["outside the request's window"]})
    patient = db.session.get(Patient, request.patient_id) if request.patient_id else None
    values = {key: getattr(request, key) for key in ("id", "cpts_id", "requested_by_id", "patient_id", "channel",
                                                      "reason", "mode", "notify_patient")}
    cpts_ids = practitioner.cpts_ids
    with write_transaction():
        claimed = db.session.execute(
            update(SlotRequest)
            .where(SlotRequest.id == request_id, SlotRequest.status == SlotRequestStatus.OPEN.value,
                   SlotRequest.expires_at > now)
            .values(status=SlotRequestStatus.ACCEPTED.value, accepted_by_id=practitioner.id, closed_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise request_closed()
        try:
            slot = insert_row(Slot, {"practitioner_id": practitioner.id, "start_at": start, "end_at": end,
                                     "mode": values["mode"], "status": SlotStatus.BOOKED.value, "created_at": now,
                                     "created_by_id": actor.id})
        except IntegrityError as error:
            if "ex_slot_no_overlap" in constraint_name(error):
                raise overlap_conflict(None)
            raise
        set_committed_value(slot, "practitioner", practitioner)
        booking = insert_row(Booking, {
            "slot_id": slot.id, "patient_id": values["patient_id"], "booked_by_id": values["requested_by_id"],
            "cpts_id": values["cpts_id"] if values["cpts_id"] in cpts_ids else min(cpts_ids, default=None),
            "channel": values["channel"], "reason": values["reason"],
            "has_treating_doctor": patient.has_treating_doctor if patient else None,
            "by_treating_doctor": bool(patient and patient.treating_rpps == practitioner.rpps), "created_at": now})
        set_committed_value(booking, "slot", slot)
        set_committed_value(booking, "patient", patient)
        db.session.execute(update(SlotRequest).where(SlotRequest.id == request_id).values(booking_id=booking.id)
                           .execution_options(synchronize_session=False))
        events.booking_created(booking, values["notify_patient"])
        sas_outbox.enqueue(booking, "booked")
        audit.record(actor, "slot.publish", "slot", after={"practitioner_id": practitioner.id, "count": 1,
                                                          "ids": [slot.id], "mode": values["mode"],
                                                          "slot_request_id": request_id})
        audit.record(actor, "booking.create", booking, after={"slot_id": slot.id, "status": booking.status,
                                                              "channel": booking.channel,
                                                              "slot_request_id": request_id})
        audit.record(actor, "slot_request.accept", "slot_request", after={
            "id": request_id, "status": SlotRequestStatus.ACCEPTED.value, "booking_id": booking.id,
            "practitioner_id": practitioner.id})
    return booking


def cancel(actor: User, request_id: int) -> SlotRequest:
    """The requester's scope cancels an open request."""
    request = load(actor, request_id)
    if request.status != SlotRequestStatus.OPEN:
        raise request_closed()
    now = utcnow()
    with write_transaction():
        changed = db.session.execute(
            update(SlotRequest).where(SlotRequest.id == request_id, SlotRequest.status == SlotRequestStatus.OPEN.value)
            .values(status=SlotRequestStatus.CANCELLED.value, closed_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise request_closed()
        audit.record(actor, "slot_request.cancel", "slot_request", before={"id": request_id, "status": "open"},
                     after={"id": request_id, "status": SlotRequestStatus.CANCELLED.value})
    db.session.refresh(request)
    return request


def seen(actor: User, request_id: int) -> bool:
    """A recipient GP opened the request's page: the first time is recorded (the regulator sees "vue par 2")."""
    load(actor, request_id)
    with write_transaction():
        first = db.session.execute(
            update(SlotRequestRecipient)
            .where(SlotRequestRecipient.request_id == request_id,
                   SlotRequestRecipient.practitioner_id == actor.practitioner_id,
                   SlotRequestRecipient.seen_at.is_(None))
            .values(seen_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        if first:
            audit.record(actor, "slot_request.seen", "slot_request", after={
                "id": request_id, "practitioner_id": actor.practitioner_id})
    return bool(first)


def expire_due(actor: str = "job:expire_slot_requests", now: datetime | None = None) -> int:
    """Open requests whose ``expires_at`` has come (at most their window's end) become ``expired``."""
    now = now or utcnow()
    due = select(SlotRequest.id).where(SlotRequest.status == SlotRequestStatus.OPEN.value,
                                       SlotRequest.expires_at <= now)
    with write_transaction():
        ids = list(db.session.scalars(due))
        if not ids:
            return 0
        db.session.execute(update(SlotRequest).where(SlotRequest.id.in_(ids),
                                                     SlotRequest.status == SlotRequestStatus.OPEN.value)
                           .values(status=SlotRequestStatus.EXPIRED.value, closed_at=now)
                           .execution_options(synchronize_session=False))
        audit.record(actor, "slot_request.expire", "slot_request", after={"ids": ids, "count": len(ids)})
    return len(ids)
