"""Reading slot requests: one request's state (the console polls it), the scope's listing, a GP's open ones."""
from __future__ import annotations

from sqlalchemy import func, select

from ..core.extensions import db
from ..core.timeutil import to_paris, utcnow
from ..models import Booking, Practitioner, Slot, SlotRequest, SlotRequestRecipient, SlotRequestStatus
from ..models.practitioners import display_name

MAX_LISTED = 200


def status_now(request: SlotRequest) -> str:
    """The request's status as of now: an open request past ``expires_at`` reads expired before the job runs."""
    if request.status == SlotRequestStatus.OPEN and request.expires_at <= utcnow():
        return SlotRequestStatus.EXPIRED.value
    return request.status


def state(request: SlotRequest) -> dict:
    """``{id, status, recipients, seen, booking_id, ...}``: what the console shows while it waits."""
    return _states([request])[0]


def sent_state(request: SlotRequest, recipients: int) -> dict:
    """A request just sent: its state without reading back what the transaction wrote."""
    return _shape(request, recipients, 0, None)


def _shape(request: SlotRequest, recipients: int, seen: int, row) -> dict:
    return {
        "id": request.id, "status": status_now(request), "recipients": recipients, "seen": seen,
        "booking_id": request.booking_id, "profession": request.profession, "mode": request.mode,
        "commune_insee": request.commune_insee, "radius_km": request.radius_km,
        "not_before": to_paris(request.not_before).isoformat(), "not_after": to_paris(request.not_after).isoformat(),
        "expires_at": to_paris(request.expires_at).isoformat(), "created_at": to_paris(request.created_at).isoformat(),
        "accepted_by": display_name(row.profession, row.first_name, row.last_name) if row else None,
        "accepted_start": to_paris(row.start_at).isoformat() if row else None,
    }


def _states(requests: list[SlotRequest]) -> list[dict]:
    ids = [r.id for r in requests]
    counts = {row.request_id: (row.recipients, row.seen) for row in db.session.execute(
        select(SlotRequestRecipient.request_id, func.count().label("recipients"),
               func.count(SlotRequestRecipient.seen_at).label("seen"))
        .where(SlotRequestRecipient.request_id.in_(ids)).group_by(SlotRequestRecipient.request_id))} if ids else {}
    accepted = {row.id: row for row in db.session.execute(
        select(SlotRequest.id, Practitioner.profession, Practitioner.first_name, Practitioner.last_name, Slot.start_at)
        .join(Practitioner, Practitioner.id == SlotRequest.accepted_by_id)
        .join(Booking, Booking.id == SlotRequest.booking_id).join(Slot, Slot.id == Booking.slot_id)
        .where(SlotRequest.id.in_([r.id for r in requests if r.booking_id])))} if ids else {}
    return [_shape(request, *counts.get(request.id, (0, 0)), accepted.get(request.id)) for request in requests]


def listing(cpts_ids: set[int], status: str | None = None) -> list[dict]:
    """The requests of these CPTS, newest first (bounded)."""
    query = (select(SlotRequest).where(SlotRequest.cpts_id.in_(cpts_ids))
             .order_by(SlotRequest.created_at.desc(), SlotRequest.id.desc()).limit(MAX_LISTED))
    if status == SlotRequestStatus.OPEN:
        query = query.where(SlotRequest.status == status, SlotRequest.expires_at > utcnow())
    elif status == SlotRequestStatus.EXPIRED:
        query = query.where((SlotRequest.status == status)
                            | ((SlotRequest.status == SlotRequestStatus.OPEN.value) & (SlotRequest.expires_at <= utcnow())))
    elif status:
        query = query.where(SlotRequest.status == status)
    return _states(list(db.session.scalars(query)))


def open_for_practitioner(practitioner_id: int) -> list[SlotRequest]:
    """The open requests sent to this practitioner (the /gp page lists them), soonest window first."""
    return list(db.session.scalars(
        select(SlotRequest).join(SlotRequestRecipient, SlotRequestRecipient.request_id == SlotRequest.id)
        .where(SlotRequestRecipient.practitioner_id == practitioner_id,
               SlotRequest.status == SlotRequestStatus.OPEN.value, SlotRequest.expires_at > utcnow())
        .order_by(SlotRequest.not_before, SlotRequest.id).limit(MAX_LISTED)))
