"""Page sessions on the server (SPEC section 8).

Signing in opens a session: a random secret goes into the browser's (signed) cookie, its SHA-256
into ``page_session``. Every page request resumes it by that secret, so a session ended here is
ended for every copy of the cookie, on every worker and instance. A session ends when

- its user signs out (every page session of that user: one sign-out signs out everywhere),
- the account is deactivated or its password changed (``end_sessions_of``, with its API tokens),
- nothing was asked for ``PAGE_SESSION_IDLE_MINUTES``, or it is ``PAGE_SESSION_MAX_HOURS`` old.

Ended sessions are deleted, so reactivating an account brings none back.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from .. import audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import PageSession, User

# Where the secret sits in the cookie session.
COOKIE_KEY = "_snp_page_session"
# last_seen_at is written at most this often: one write a minute per browser, not one per request.
_TOUCH_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["PAGE_SESSION_IDLE_MINUTES"])


def _age_limit() -> timedelta:
    return timedelta(hours=current_app.config["PAGE_SESSION_MAX_HOURS"])


def start(user: User, replacing: str | None = None) -> str:
    """Open a session for ``user`` and return its secret (for the cookie).

    ``replacing`` is the secret the browser held before: that session ends, so signing in
    always yields a new session id (no fixation through a planted cookie).
    """
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction():
        if replacing:
            db.session.execute(delete(PageSession).where(PageSession.secret_hash == _hash(replacing)))
        page_session = PageSession(user_id=user.id, secret_hash=_hash(secret), created_at=now, last_seen_at=now)
        db.session.add(page_session)
        audit.record(user, "session.start", page_session)
    return secret


def resume(secret: str | None, user_id: int) -> User | None:
    """The active user of a live session with this secret, or None (unknown, ended, expired, other user)."""
    if not secret:
        return None
    row = db.session.execute(
        select(User, PageSession.id, PageSession.created_at, PageSession.last_seen_at)
        .join(PageSession, PageSession.user_id == User.id)
        .where(PageSession.secret_hash == _hash(secret))
    ).first()
    if row is None or row.User.id != user_id or not row.User.active:
        return None
    now = utcnow()
    if _expired(row.created_at, row.last_seen_at, now):
        with write_transaction():
            db.session.execute(delete(PageSession).where(PageSession.id == row.id))
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with write_transaction():
            db.session.execute(update(PageSession).where(PageSession.id == row.id).values(last_seen_at=now))
    return row.User


def _expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at > _idle_limit() or now - created_at > _age_limit()


def sign_out(user: User) -> int:
    """End every page session of ``user`` (the one signing out and their other browsers)."""
    with write_transaction():
        ended = end_sessions_of(user.id)
        audit.record(user, "session.end", "page_session", after={"user_id": user.id, "ended": ended})
    return ended


def end_sessions_of(user_id: int) -> int:
    """Delete every page session of a user, inside the caller's ``write_transaction``; returns how many."""
    return db.session.execute(delete(PageSession).where(PageSession.user_id == user_id)).rowcount


def purge_expired(now: datetime | None = None) -> int:
    """Delete the sessions past their idle or absolute limit (the job's housekeeping); returns how many."""
    now = now or utcnow()
    with write_transaction():
        return db.session.execute(delete(PageSession).where(or_(
            PageSession.last_seen_at < now - _idle_limit(), PageSession.created_at < now - _age_limit()))).rowcount
