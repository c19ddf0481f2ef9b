"""Locked accounts as the coordination sees them, and unlocking one (issue 25).

The lock itself is ``sign_in``'s count: an account is locked for unknown devices once
``LOCKOUT_THRESHOLD`` attempts at its e-mail failed within ``LOCKOUT_MINUTES`` (a known device keeps its
own budget, so the regulator on shift still signs in from their browser). Nothing is stored on the account:
the lock ends by itself as the window slides, or when a coordinator of the account (an admin for anyone)
unlocks it, which forgets its failed attempts (audited).
"""
from __future__ import annotations

from sqlalchemy import delete, func, select

from .. import audit, policy
from ..core.database import write_transaction
from ..core.errors import NotFound
from ..core.extensions import db
from ..core.fast_paths import execute_core
from ..core.timeutil import utcnow
from ..models import SignInAttempt, User
from .sign_in import account_key, limits

_ATTEMPTS = SignInAttempt.__table__


def locked_ids(accounts: list[User]) -> set[int]:
    """The ids of those ``accounts`` now locked for unknown devices."""
    if not accounts:
        return set()
    allowed, window = limits()["account"]
    by_key = {account_key(a.email): a.id for a in accounts}
    rows = db.session.execute(
        select(_ATTEMPTS.c.account_key).where(_ATTEMPTS.c.account_key.in_(list(by_key)), _ATTEMPTS.c.device.is_(None),
                                              _ATTEMPTS.c.at > utcnow() - window)
        .group_by(_ATTEMPTS.c.account_key).having(func.count() >= allowed))
    return {by_key[key] for (key,) in rows}


def unlock(actor, account_id: int) -> User:
    """Forget the failed attempts at the account (every device's): it signs in again at once."""
    with write_transaction():
        user = db.session.get(User, account_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        forgotten = execute_core(delete(_ATTEMPTS).where(_ATTEMPTS.c.account_key == account_key(user.email))).rowcount
        audit.record(actor, "user.unlock", user, after={"failed_attempts_forgotten": forgotten})
    return user
