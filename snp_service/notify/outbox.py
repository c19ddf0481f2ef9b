"""The outbox service: queue messages with the change that causes them, show them, send failed ones again.

Queued rows are only *marked* on the session here; once the transaction is committed, the sender is
woken (``sender.install``, wired by the app factory; Indico's habit: nothing leaves for a rolled-back
booking, and the request never waits for the provider).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import exists, or_, select

from .. import audit
from ..core import delivery
from ..core.database import write_transaction
from ..core.errors import Conflict, NotFound
from ..core.extensions import db
from ..core.fast_paths import insert_many
from ..core.secret_masking import MASK
from ..core.timeutil import utcnow
from ..models import RESENDABLE_STATUSES, Booking, OutboxMessage, members_of
from ..policy import bookings_of

STATUS_CALLBACK_PATH = "/notify/twilio/status"
# The name under which a transaction marks that it queued SMS (``core.delivery.mark_queued``).
OUTBOX = "sms"

# Twilio's message statuses folded into ours, and how far along each is:
# a late "sent" callback must not undo "delivered".
PROVIDER_STATUSES = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "queued",
    "sent": "sent", "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "failed", "canceled": "failed",
}
_PROGRESS = {"pending": 0, "sending": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


def enqueue(kind: str, recipient: str, booking: Booking | None, to_phone: str, body: str,
            practitioner_id: int | None = None) -> OutboxMessage:
    """Add a message to the current transaction; it is sent after the commit. A message about no booking
    (a slot request to a practitioner) names its practitioner."""
    message = OutboxMessage(kind=kind, recipient=recipient, booking=booking, to_phone=to_phone, body=body,
                            practitioner_id=booking.slot.practitioner_id if booking else practitioner_id,
                            next_attempt_at=utcnow())
    db.session.add(message)
    delivery.mark_queued(db.session, OUTBOX)
    return message


def enqueue_many(kind: str, recipient: str, body: str, phones: list[tuple[int, str]]) -> None:
    """One message of the same ``body`` to each ``(practitioner id, phone)``, about no booking, in one INSERT."""
    if not phones:
        return
    now = utcnow()
    insert_many(OutboxMessage.__table__, [{"practitioner_id": practitioner_id, "to_phone": phone}
                                          for practitioner_id, phone in phones],
                same={"kind": kind, "recipient": recipient, "body": body, "status": "pending", "attempts": 0,
                      "next_attempt_at": now, "created_at": now})
    delivery.mark_queued(db.session, OUTBOX)


def patient_was_notified(booking: Booking) -> bool:
    """Whether the patient got an SMS about this booking or any it replaced (so a later change deserves one too):
    after a move made without SMS, the patient still holds the first booking's confirmation."""
    chain = select(Booking.id, Booking.replaces_booking_id).where(Booking.id == booking.id).cte(recursive=True)
    chain = chain.union_all(select(Booking.id, Booking.replaces_booking_id)
                            .join(chain, Booking.id == chain.c.replaces_booking_id))
    return db.session.scalar(select(exists().where(
        OutboxMessage.booking_id.in_(select(chain.c.id)), OutboxMessage.recipient == "patient"))) or False


def status_callback_url(message_id: int) -> str:
    """Where Twilio reports on a message; the outbox id lets a callback find a row whose SID is not recorded yet."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{STATUS_CALLBACK_PATH}?outbox_id={message_id}"


def recent_messages(cpts_ids: set[int] | None, limit: int = 100) -> list[OutboxMessage]:
    """The last messages about practitioners of ``cpts_ids`` (``None``: all), newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    return list(db.session.scalars(_within(query, cpts_ids)))


def resend(actor, message_id: int, cpts_ids: set[int] | None) -> OutboxMessage:
    """A coordinator sends a failed message again: back to pending with its attempts reset."""
    with write_transaction():
        query = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
        message = db.session.scalar(_within(query, cpts_ids))
        if message is None:
            raise NotFound("Message introuvable")
        if message.status not in RESENDABLE_STATUSES:
            raise Conflict("Seul un message en échec peut être renvoyé", code="message_not_failed",
                           fields={"status": [f"is {message.status}"]})
        if not message.to_phone or not message.body:
            raise Conflict("Le numéro de ce message a été effacé", code="message_erased")
        before = {"status": message.status, "attempts": message.attempts}
        _renew_patient_link(message)
        now = utcnow()
        message.status, message.attempts, message.provider_sid, message.last_error = "pending", 0, None, None
        message.next_attempt_at = message.status_changed_at = now
        delivery.mark_queued(db.session, OUTBOX)
        audit.record(actor, "outbox.resend", message, before=before, after={"status": "pending"})
    return message


def _renew_patient_link(message: OutboxMessage) -> None:
    """A text sent once lost its link's secret (``sender``: only the hash is kept): a resend carries a new link."""
    masked = f"/r/{MASK}"
    if message.booking is not None and masked in message.body:
        from ..bookings import patient_link  # the link is a booking's; bookings calls this package

        message.body = message.body.replace(
            f"{current_app.config['PUBLIC_URL'].rstrip('/')}{masked}", patient_link.issue(message.booking))


def _within(query, cpts_ids: set[int] | None):
    """Messages about practitioners of ``cpts_ids`` and, when about a booking, a booking made for one of them
    (``policy.bookings_of``): a message about another CPTS's booking on a shared practitioner is that CPTS's."""
    if cpts_ids is None:
        return query
    of_scope = select(Booking.id).where(bookings_of(cpts_ids))
    return query.where(OutboxMessage.practitioner_id.in_(members_of(cpts_ids)),
                       or_(OutboxMessage.booking_id.is_(None), OutboxMessage.booking_id.in_(of_scope)))


def record_provider_status(provider_sid: str, provider_status: str, outbox_id: int | None = None,
                           error_code: str | None = None) -> OutboxMessage | None:
    """A delivery report from the provider: move the message forward, never back."""
    status = PROVIDER_STATUSES.get(provider_status)
    if status is None:
        return None
    with write_transaction():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.provider_sid == provider_sid)
                                    .with_for_update())
        if message is None and outbox_id is not None:
            # The report may beat the sender's own record of the SID.
            message = db.session.get(OutboxMessage, outbox_id, with_for_update=True)
            if message is None or message.provider_sid not in (None, provider_sid):
                return None
        if message is None or _PROGRESS.get(status, 0) < _PROGRESS.get(message.status, 0):
            return message
        message.provider_sid = provider_sid
        if message.status != status:
            message.status, message.status_changed_at = status, utcnow()
            if status in ("undelivered", "failed"):
                message.last_error = f"twilio_{error_code}" if error_code else status
                audit.record("twilio", "outbox.undelivered", message, after={"status": status, "error": message.last_error})
    return message
