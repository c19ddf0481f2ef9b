"""Send the queued appointment calls to the SAS platform: claim, call, record; each step committed on its own.

Order: a call is claimed only when no earlier call of the same appointment is still pending or being
sent, so the platform hears "booked" before "cancelled", whatever the retries. A call that failed for
good does not hold the next ones back: each carries the whole appointment.

Never twice: a call is claimed (``sending``, attempt counted, lease set) in a committed transaction
before the platform is called. When the answer is lost (timeout, crash, lease expired), the call may
have arrived: it goes again as a conditional PUT on the appointment's identifier, which the platform
applies as create-or-update (its CapabilityStatement: ``updateCreate``), never a second appointment.

Retries: transient errors come back after ``delivery.backoff`` (``SAS_PUSH_RETRY_BASE_SECONDS``, doubling,
capped by ``SAS_PUSH_RETRY_MAX_SECONDS``), up to ``SAS_PUSH_MAX_ATTEMPTS``, then ``failed``; a permanent
refusal is ``failed`` at once. After a transient error the run stops: the platform is down or busy, the
rest of the queue waits for it rather than burning attempts.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from .. import audit
from ..core import delivery
from ..core.delivery import PermanentError, TransientError, UncertainError
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import SasPush
from .client import SasClient
from .outbox import OUTBOX

log = logging.getLogger(__name__)
ACTOR = "job:send_sas_appointments"
_UNFINISHED = ("pending", "sending")


def send_pending(now: datetime | None = None, limit: int = 200, client: SasClient | None = None) -> dict:
    """Send due calls (at most ``limit``); returns counts: sent, failed, retried, requeued."""
    counts = Counter(sent=0, failed=0, retried=0, requeued=0)
    if not current_app.config.get("SAS_API_URL"):
        return dict(counts)
    client = client or SasClient(current_app.config)
    counts["requeued"] = _requeue_expired_leases(now or utcnow())
    return delivery.drain(_claim_next, lambda push, at: _deliver(client, push, at), counts, now, limit)


def _claim_next(now: datetime) -> SasPush | None:
    earlier = aliased(SasPush)
    waiting_for_earlier = exists().where(earlier.appointment_id == SasPush.appointment_id, earlier.id < SasPush.id,
                                         earlier.status.in_(_UNFINISHED))
    with write_transaction():
        push = db.session.scalar(
            select(SasPush).where(SasPush.status == "pending", SasPush.next_attempt_at <= now, ~waiting_for_earlier)
            .order_by(SasPush.next_attempt_at, SasPush.id).limit(1).with_for_update(skip_locked=True))
        if push is None:
            return None
        push.status, push.attempts = "sending", push.attempts + 1
        push.last_attempt_at = push.status_changed_at = now
        push.lease_expires_at = now + timedelta(seconds=current_app.config["SAS_PUSH_LEASE_SECONDS"])
        return push


def _deliver(client: SasClient, push: SasPush, now: datetime) -> str:
    try:
        client.send(push.method, push.body)
    except PermanentError as error:
        return _record(push.id, push.attempts, now, failed=error.code)
    except UncertainError as error:
        return _record(push.id, push.attempts, now, retry=error.code, as_update=True)
    except TransientError as error:
        return _record(push.id, push.attempts, now, retry=error.code)
    return _record(push.id, push.attempts, now)


def _record(push_id: int, attempts: int, now: datetime, *, failed: str | None = None, retry: str | None = None,
            as_update: bool = False) -> str:
    config = current_app.config
    with write_transaction():
        push = db.session.scalar(select(SasPush).where(SasPush.id == push_id).with_for_update()
                                 .execution_options(populate_existing=True))
        if push is None or push.status != "sending" or push.attempts != attempts:
            return "retried"  # no longer our claim (a lease check requeued it meanwhile)
        if failed is None and retry is None:
            delivery.set_status(push, "sent", now)
            push.last_error = None
            return "sent"
        if failed is None and attempts < config["SAS_PUSH_MAX_ATTEMPTS"]:
            push.last_error = retry
            if as_update:
                push.method = "PUT"
            push.next_attempt_at = now + delivery.backoff(attempts, config["SAS_PUSH_RETRY_BASE_SECONDS"],
                                                          config["SAS_PUSH_RETRY_MAX_SECONDS"])
            delivery.set_status(push, "pending", now)
            log.warning("SAS appointment call #%s: %s, attempt %s, retry at %s", push_id, retry, attempts,
                        push.next_attempt_at)
            return "retried"
        _fail(push, failed or retry, now)
        return "failed"


def _requeue_expired_leases(now: datetime) -> int:
    """Calls left ``sending`` (a crash, a killed worker): they may have arrived, so they go again as PUT."""
    requeued = 0
    with write_transaction():
        stale = db.session.scalars(select(SasPush).where(SasPush.status == "sending", SasPush.lease_expires_at <= now)
                                   .limit(50).with_for_update(skip_locked=True)).all()
        for push in stale:
            if push.attempts >= current_app.config["SAS_PUSH_MAX_ATTEMPTS"]:
                _fail(push, push.last_error or "lost", now)
                continue
            push.method, push.next_attempt_at = "PUT", now
            delivery.set_status(push, "pending", now)
            requeued += 1
    return requeued


def _fail(push, code: str, now: datetime) -> None:
    delivery.fail(push, code, now, what="SAS appointment call")
    audit.record(ACTOR, "sas_push.failed", push, after={"status": "failed", "error": code, "attempts": push.attempts})


def install(app: Flask) -> None:
    """A commit that queued calls wakes this process's sender (``SAS_PUSH_SEND_AFTER_COMMIT``); the factory calls it."""
    delivery.install(app, OUTBOX, "SAS_PUSH_SEND_AFTER_COMMIT", send_pending)
