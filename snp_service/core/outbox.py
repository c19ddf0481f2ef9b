"""What every outbox of the service shares (SMS, appointments sent to the SAS platform).

- ``backoff``: the wait after the n-th failed attempt, doubling from a base up to a cap;
- ``wake_after_commit``: a commit that queued rows wakes that outbox's sender; a rollback wakes nobody
  (nothing leaves for a change that did not happen);
- ``wake``: one sender thread per process and outbox, drained whenever woken (the scheduler's job
  drains the same outbox on its own, for rows a crashed process left behind);
- ``set_status`` and ``fail``: a row's status change, and its final failure (audited, logged).

Each outbox keeps its own claim, lease and final states: the rules of what may be sent twice differ
(an SMS is checked with the provider before a resend; a call to the SAS platform is an idempotent update).
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta
from typing import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import audit

log = logging.getLogger(__name__)


def set_status(row, status: str, now: datetime) -> None:
    """A row's new status: a row no longer being sent holds no lease."""
    row.status, row.status_changed_at = status, now
    if status != "sending":
        row.lease_expires_at = None


def fail(row, code: str, now: datetime, *, actor: str, action: str, what: str) -> None:
    """A row failed for good (``code`` says why, never the provider's text): audited and logged."""
    row.last_error = code
    set_status(row, "failed", now)
    audit.record(actor, action, row, after={"status": "failed", "error": code, "attempts": row.attempts})
    log.warning("%s #%s failed for good after %s attempt(s): %s", what, row.id, row.attempts, code)


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """``base * 2**(attempts-1)``, capped: 30 s, 1 min, 2 min... for a base of 30 s."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def mark_queued(session: Session, flag: str) -> None:
    """Note on the session that its transaction queued rows for the outbox named by ``flag``."""
    session.info[flag] = True


def wake_after_commit(flag: str, setting: str, waker: Callable[[Flask], None]) -> None:
    """After a commit of a session marked with ``flag``, call ``waker(app)`` if the setting allows it."""

    @event.listens_for(Session, "after_commit")
    def _wake(session) -> None:
        if session.info.pop(flag, False) and has_app_context() and current_app.config[setting]:
            waker(current_app._get_current_object())

    @event.listens_for(Session, "after_rollback")
    def _forget(session) -> None:
        session.info.pop(flag, None)


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
