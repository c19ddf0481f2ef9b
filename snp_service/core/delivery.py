"""What every outbox of the service shares (the SMS, the appointments sent to the SAS platform).

- one family of errors for whatever carries a row (Twilio, the SAS platform's API): ``TransientError`` (it
  surely did not arrive, or the provider asks to come back later), ``PermanentError`` (refused for good) and
  ``UncertainError`` (sent, no answer: the provider may hold it);
- ``drain``, the one sending loop: claim a due row, deliver it, count the outcome, until none is due; a
  transient failure ends the run (the provider is down or busy: the rest of the queue waits for it rather than
  burning its attempts against it);
- ``backoff``: the wait after the n-th failed attempt, doubling from a base up to a cap;
- ``set_status`` and ``fail``: a row's status change, and its final failure (logged; the outbox audits it);
- ``install``: a commit that queued rows (``mark_queued``) wakes that outbox's sender, a rollback wakes nobody
  (nothing leaves for a change that did not happen); wired by the app factory, never at import;
- ``wake``: one sender thread per process and outbox, drained whenever woken (the scheduler's job drains the
  same outbox on its own, for rows a crashed process left behind).

Each outbox keeps its own claim, lease and final states: the rules of what may be sent twice differ
(an SMS is checked with the provider before a resend; a call to the SAS platform is an idempotent update).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event

from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A row could not be delivered; ``code`` says why ("http_503", "network", "twilio_21211"), never the
    provider's text (it may quote a phone number)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class TransientError(DeliveryError):
    """It surely did not arrive (connection refused, TLS handshake failed), or the provider asks to come back
    later (5xx, 429): retried after ``backoff``."""


class PermanentError(DeliveryError):
    """The provider refused the row itself (an invalid number, a 4xx): never retried."""


class UncertainError(DeliveryError):
    """Sent, but no answer came back: the provider may hold it. Each outbox knows how to make sure before a
    resend (the SMS: ask the provider; the SAS platform: a conditional update, which creates or updates)."""


def drain(claim: Callable[[datetime], object | None], deliver: Callable[[object, datetime], str],
          counts: Counter, now: datetime | None = None, limit: int = 200) -> dict:
    """Claim (``claim(now)``) and deliver (``deliver(row, now)``, which answers its outcome) at most ``limit``
    due rows, counting each outcome; ``now`` is the current time when not given. Returns the counts."""
    for _ in range(limit):
        row = claim(now or utcnow())
        if row is None:
            break
        outcome = deliver(row, now or utcnow())
        counts[outcome] += 1
        if outcome == "retried":  # the provider is down or busy
            break
    return dict(counts)


def set_status(row, status: str, now: datetime) -> None:
    """A row's new status: a row no longer being sent holds no lease."""
    row.status, row.status_changed_at = status, now
    if status != "sending":
        row.lease_expires_at = None


def fail(row, code: str, now: datetime, what: str) -> None:
    """A row failed for good (``code`` says why): its status and a warning; the caller audits it."""
    row.last_error = code
    set_status(row, "failed", now)
    log.warning("%s #%s failed for good after %s attempt(s): %s", what, row.id, row.attempts, code)


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """``base * 2**(attempts-1)``, capped: 30 s, 1 min, 2 min... for a base of 30 s."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


# --- waking the senders after a commit ----------------------------------------------------------------------

# Session.info: the outboxes the current transaction queued rows for. App.extensions: each outbox's waker.
_QUEUED = "snp_outboxes_queued"
_WAKERS = "snp_outbox_wakers"


def mark_queued(session, outbox: str) -> None:
    """Note on the session that its transaction queued rows for ``outbox``."""
    session.info.setdefault(_QUEUED, set()).add(outbox)


def install(app: Flask, outbox: str, setting: str, drain: Callable[[], dict], batch: int = 200) -> None:
    """After each commit of the app's session that queued rows for ``outbox``, this process's sender thread of
    that outbox runs ``drain()`` (``wake``), when the setting ``setting`` allows it. Called by the app factory;
    listening twice is a no-op."""
    key, name = f"snp_{outbox}_sender", f"snp-{outbox}-sender"
    app.extensions.setdefault(_WAKERS, {})[outbox] = (setting, lambda app: wake(app, key, name, drain, batch))
    # On the session factory of Flask-SQLAlchemy's scoped session, as the database plumbing is.
    for name, listener in (("after_commit", _wake_after_commit), ("after_rollback", _forget_queued)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _wake_after_commit(session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if not queued or not has_app_context():
        return
    for outbox, (setting, waker) in current_app.extensions.get(_WAKERS, {}).items():
        if outbox in queued and current_app.config[setting]:
            waker(current_app._get_current_object())


def _forget_queued(session) -> None:
    session.info.pop(_QUEUED, None)


class BackgroundDrainer:
    """One thread that runs ``drain()`` (in an app context) each time it is woken."""

    def __init__(self, app: Flask, name: str, drain: Callable[[], dict], batch: int):
        self.app, self.drain, self.batch = app, drain, batch
        self.pid = os.getpid()
        self.wakeup = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self.wakeup.set()

    def _run(self) -> None:
        while True:
            self.wakeup.wait()
            self.wakeup.clear()
            try:
                with self.app.app_context():
                    counts = self.drain()
            except Exception:
                log.exception("%s run failed; the scheduled job will pick the rows up", self.thread.name)
                continue
            if sum(counts.values()) >= self.batch and not counts.get("retried"):
                self.wakeup.set()  # a full batch: more may be waiting


_start_lock = threading.Lock()


def wake(app: Flask, key: str, name: str, drain: Callable[[], dict], batch: int) -> None:
    """Wake this process's drainer ``key`` of ``app``, starting it first if needed."""
    with _start_lock:
        drainer = app.extensions.get(key)
        # A forked worker inherits the object but not its thread.
        if drainer is None or drainer.pid != os.getpid():
            drainer = app.extensions[key] = BackgroundDrainer(app, name, drain, batch)
    drainer.wake()
