"""Drain the outbox: claim a due message, send it, record the outcome, each step committed on its own.

Idempotency: a row is claimed (``sending``, attempt counted, lease set) in a
committed transaction *before* the provider is called, and the provider's SID
is recorded after. A crash in between leaves the row ``sending``; once its
lease expires it is *checked* with the provider (``backend.find``: a message
ending with the row's own reference, accepted within the claim's window; for
Twilio the status callback, which carries the outbox id, may also have recorded
the SID meanwhile) and only sent again if the provider has no trace of it.

Retries: transient errors (network, 5xx, 429) come back after
``SMS_RETRY_BASE_SECONDS * 2**(attempt-1)`` capped at ``SMS_RETRY_MAX_SECONDS``,
up to ``SMS_MAX_ATTEMPTS``, then ``failed``; a permanent error (invalid number)
is ``failed`` at once. After a transient error the run stops: the rest of the
backlog waits for the provider rather than burning its attempts against it.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select

from .. import audit
from ..core import delivery
from ..core.database import write_transaction
from ..core.delivery import DeliveryError, PermanentError, TransientError, UncertainError
from ..core.secret_masking import mask_secrets
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Booking, BookingStatus, OutboxMessage
from . import messages
from .backends import OutgoingSms, get_backend
from .outbox import OUTBOX, status_callback_url

log = logging.getLogger(__name__)
ACTOR = "job:send_outbox"


def send_pending(now: datetime | None = None, limit: int = 200) -> dict:
    """Send due messages (at most ``limit``); returns counts: sent, failed, retried, skipped, recovered."""
    backend = get_backend()
    counts = Counter(sent=0, failed=0, retried=0, skipped=0, recovered=0)
    _check_expired_leases(backend, now or utcnow(), counts)
    return delivery.drain(lambda at: _claim_next(at, counts), lambda message, at: _deliver(backend, message, at),
                          counts, now, limit)


def _claim_next(now: datetime, counts: Counter) -> OutboxMessage | None:
    """Mark the next due message ``sending`` and commit, so no other sender takes it."""
    config = current_app.config
    with write_transaction():
        while True:
            message = db.session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1).with_for_update(skip_locked=True))
            if message is None:
                return None
            if _reminder_is_moot(message, now):
                delivery.set_status(message, "skipped", now)
                counts["skipped"] += 1
                continue
            message.status, message.attempts = "sending", message.attempts + 1
            message.last_attempt_at, message.status_changed_at = now, now
            message.lease_expires_at = now + timedelta(seconds=config["SMS_LEASE_SECONDS"])
            return message


def _reminder_is_moot(message: OutboxMessage, now: datetime) -> bool:
    """A reminder for a booking cancelled or a slot started since it was queued helps nobody."""
    if message.kind != "patient_reminder":
        return False
    booking: Booking | None = message.booking
    return booking is None or booking.status != BookingStatus.BOOKED or booking.slot.start_at <= now


def _outgoing(message: OutboxMessage) -> OutgoingSms:
    """What leaves for the provider: the row's text ended by its reference (how ``find`` knows it again)."""
    reference = messages.reference(message.id)
    return OutgoingSms(message.id, message.to_phone, message.body + reference, status_callback_url(message.id),
                       reference)


def _deliver(backend, message: OutboxMessage, now: datetime) -> str:
    try:
        sid = backend.send(_outgoing(message))
    except PermanentError as error:
        return _finish(message.id, message.attempts, now, failed=error.code)
    except TransientError as error:
        return _retry_later(message.id, message.attempts, now, error.code)
    except UncertainError as error:
        return _check_later(message.id, message.attempts, now, error.code)
    return _finish(message.id, message.attempts, now, sid=sid)


def _locked_claim(message_id: int, attempts: int) -> OutboxMessage | None:
    """The row, locked, if it is still our claim (a status callback or a lease check may have moved it)."""
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id)
                                .with_for_update().execution_options(populate_existing=True))
    claimed = message is not None and message.status == "sending" and message.attempts == attempts
    return message if claimed else None


def _finish(message_id: int, attempts: int, now: datetime, *, sid: str | None = None, failed: str | None = None) -> str:
    with write_transaction():
        message = _locked_claim(message_id, attempts)
        if message is None:
            return "sent" if sid else "failed"
        if sid:
            message.provider_sid = sid
            # Once the provider holds the text, the patient's link secret is kept no longer (only its hash is):
            # a resend gives a new link (``outbox.resend``).
            message.body = mask_secrets(message.body) if message.body else message.body
            delivery.set_status(message, "queued", now)
            return "sent"
        _fail(message, failed, now)
        return "failed"


def _retry_later(message_id: int, attempts: int, now: datetime, code: str) -> str:
    config = current_app.config
    with write_transaction():
        message = _locked_claim(message_id, attempts)
        if message is None:
            return "retried"
        if attempts >= config["SMS_MAX_ATTEMPTS"]:
            _fail(message, code, now)
            return "failed"
        message.last_error = code
        message.next_attempt_at = now + backoff(attempts)
        delivery.set_status(message, "pending", now)
    log.warning("SMS #%s: %s, attempt %s, retry at %s", message_id, code, attempts, message.next_attempt_at)
    return "retried"


def _check_later(message_id: int, attempts: int, now: datetime, code: str) -> str:
    """The provider may hold the message: keep it claimed, let the lease check look for it before any resend."""
    with write_transaction():
        message = _locked_claim(message_id, attempts)
        if message is not None:
            message.last_error = code
            message.lease_expires_at = now + backoff(attempts)
    return "retried"


def backoff(attempts: int) -> timedelta:
    config = current_app.config
    return delivery.backoff(attempts, config["SMS_RETRY_BASE_SECONDS"], config["SMS_RETRY_MAX_SECONDS"])


def _check_expired_leases(backend, now: datetime, counts: Counter) -> None:
    """Rows left ``sending`` (crash, timeout): ask the provider, then record the SID or requeue."""
    stale = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "sending", OutboxMessage.lease_expires_at <= now).limit(50)).all()
    db.session.commit()
    for message_id in stale:
        message = _reclaim(message_id, now)
        if message is None:
            continue
        # The provider was called, if at all, right after the claim and within its lease.
        claimed = message.last_attempt_at or message.created_at
        window = (claimed, claimed + timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"]))
        try:
            sid = backend.find(_outgoing(message), window)
        except DeliveryError:
            counts["retried"] += 1  # the provider cannot tell yet: the renewed lease brings it back later
            continue
        if sid:
            _finish(message.id, message.attempts, now, sid=sid)
            counts["recovered"] += 1
        else:
            _requeue(message.id, message.attempts, now)


def _reclaim(message_id: int, now: datetime) -> OutboxMessage | None:
    with write_transaction():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == "sending", OutboxMessage.lease_expires_at <= now,
        ).with_for_update(skip_locked=True).execution_options(populate_existing=True))
        if message is not None:
            message.lease_expires_at = now + timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
        return message


def _requeue(message_id: int, attempts: int, now: datetime) -> None:
    """The provider never got it: send it again (the attempt it cost still counts)."""
    with write_transaction():
        message = _locked_claim(message_id, attempts)
        if message is None:
            return
        if attempts >= current_app.config["SMS_MAX_ATTEMPTS"]:
            _fail(message, message.last_error or "lost", now)
        else:
            message.next_attempt_at = now
            delivery.set_status(message, "pending", now)


def _fail(message, code: str, now: datetime) -> None:
    delivery.fail(message, code, now, what="SMS")
    audit.record(ACTOR, "outbox.failed", message, after={"status": "failed", "error": code, "attempts": message.attempts})


def install(app: Flask) -> None:
    """A commit that queued SMS wakes this process's sender (``SMS_SEND_AFTER_COMMIT``); called by the factory."""
    delivery.install(app, OUTBOX, "SMS_SEND_AFTER_COMMIT", send_pending)
