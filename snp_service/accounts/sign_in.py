"""Sign-in with throttling per account, per known device and per client address (SPEC section 8).

Both sign-in paths (the ``/login`` page and ``POST /api/v1/auth/token``) call ``sign_in``. The
count is kept in the database (``sign_in_attempt``), so every worker and every instance adds to
the same one. An attempt is written *before* the password is checked and removed only when it
succeeds: concurrent attempts cannot all pass the count before any is recorded, so at most the
limit reaches the password check, however many workers answer.

Who is counted together (OWASP's device cookies, ``known_devices``): a device that signed in to the
account before, and presents its device token, has a budget of its own (the account limit, for that
device alone); every other attempt at the account shares the "unknown devices" budget. Someone who
hammers a regulator's e-mail therefore locks unknown devices only: the regulator's own browser signs
in. The address limit (one address trying many accounts) applies to unknown devices: a device token
vouches for one account only, so it cannot serve such a run. ``limits()`` is the one place the budgets
are read from the configuration.

The answer leaks nothing: the account key is the e-mail typed, whether or not it names an account,
and a locked account answers 429 to the right password as to a wrong one. Only the locked account
(or address) is refused: other people behind the same proxy sign in, each with their own address.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from functools import cache, lru_cache

from flask import current_app
from limits import parse
from sqlalchemy import delete, func, insert, select
from werkzeug.security import check_password_hash

from ..core.database import write_transaction
from ..core.errors import DomainError, Unauthorized
from ..core.extensions import db
from ..core.fast_paths import execute_core
from ..core.timeutil import utcnow
from ..models import SignInAttempt, User
from . import known_devices, passwords
from .users import normalise_email

_ATTEMPTS = SignInAttempt.__table__
# The sign-in page's one answer to wrong credentials and to a locked account alike.
REFUSED_ON_PAGE = ("E-mail ou mot de passe incorrect, ou trop d'essais manqués depuis cet appareil : vérifiez-les, "
                   "ou réessayez dans quelques minutes.")


class TooManyAttempts(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__("Trop de tentatives de connexion : réessayez dans quelques minutes.")
        self.retry_after = retry_after


@lru_cache(maxsize=16)
def _parse_limit(text: str) -> tuple[int, timedelta]:
    item = parse(text)
    return item.amount, timedelta(seconds=item.get_expiry())


def limits() -> dict[str, tuple[int, timedelta]]:
    """(attempts allowed, window) of each budget: ``account``, for the unknown devices of an account and
    for each known device of it on its own; ``address``, for unknown devices at one client address."""
    config = current_app.config
    account = (_parse_limit(config["RATELIMIT_LOGIN_PER_ACCOUNT"]) if config.get("RATELIMIT_LOGIN_PER_ACCOUNT")
               else (int(config["LOCKOUT_THRESHOLD"]), timedelta(minutes=float(config["LOCKOUT_MINUTES"]))))
    return {"account": account, "address": _parse_limit(config["RATELIMIT_LOGIN_PER_ADDRESS"])}


def account_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def sign_in(email: str, password: str, address: str | None, device_tokens: str | None = None,
            then=None) -> User:
    """The user whose e-mail and password these are; ``TooManyAttempts`` (429) past a limit,
    ``Unauthorized`` (401) for wrong credentials. ``device_tokens``: what the client holds from
    ``known_devices`` (the page's cookie, the API's ``device_token``), if anything. ``then(user)``: a further
    check after the password (the API's second factor): its refusal leaves the attempt counted, unless the
    refusal says ``counted = False`` (a code not given yet)."""
    attempt_id = _admit(account_key(email), (address or "unknown")[:45], _known_device(email, device_tokens))
    user = authenticate(email, password)  # a failure leaves the attempt counted
    if then is not None:
        try:
            then(user)
        except DomainError as refused:
            if getattr(refused, "counted", True):
                raise
            with write_transaction():
                execute_core(delete(_ATTEMPTS).where(_ATTEMPTS.c.id == attempt_id))
            raise
    with write_transaction():
        execute_core(delete(_ATTEMPTS).where(_ATTEMPTS.c.id == attempt_id))
    return user


def record_failure(email: str, address: str | None, device_tokens: str | None = None) -> None:
    """Count a failed second step (a wrong second-factor code after the right password) as a failed attempt at
    the account, as a wrong password is: codes cannot be tried without end, one sign-in after another."""
    with write_transaction():
        execute_core(insert(_ATTEMPTS).values(account_key=account_key(email), address=(address or "unknown")[:45],
                                              device=_known_device(email, device_tokens), at=utcnow()))


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so both failures take the same time (made on first use)."""
    return passwords.hash_password("not-a-real-password")


def account_id_for_email(email: str) -> int | None:
    """The id of the account that ``email`` (as typed) signs in to, if there is one."""
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        raise Unauthorized("Identifiants invalides", code="invalid_credentials")
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise Unauthorized("Identifiants invalides", code="invalid_credentials")
    if passwords.is_refused_demo_password(password):
        # An account seeded by the demo on a database later run in production: its password is public.
        raise Unauthorized("Identifiants invalides", code="invalid_credentials")
    return user


def _known_device(email: str, device_tokens: str | None) -> str | None:
    """The nonce of the device's token for the account of ``email``, if it holds a valid one."""
    vouched = known_devices.accounts_of(device_tokens)
    if not vouched:
        return None
    return vouched.get(account_id_for_email(email))


def _admit(account: str, address: str, device: str | None) -> int:
    now = utcnow()
    with write_transaction():
        attempt_id = execute_core(insert(_ATTEMPTS).values(account_key=account, address=address, device=device, at=now)
                                  .returning(_ATTEMPTS.c.id)).scalar_one()
    # Committed: from here every concurrent attempt counts this one, as this one counts theirs.
    same_device = _ATTEMPTS.c.device == device if device else _ATTEMPTS.c.device.is_(None)
    budgets = [((_ATTEMPTS.c.account_key == account) & same_device, limits()["account"])]
    if device is None:
        budgets.append((_ATTEMPTS.c.address == address, limits()["address"]))
    retry_after = 0
    for counted_together, (allowed, window) in budgets:
        counted, oldest = db.session.execute(
            select(func.count(), func.min(_ATTEMPTS.c.at)).where(counted_together, _ATTEMPTS.c.at > now - window)).one()
        if counted > allowed:
            retry_after = max(retry_after, _seconds_until(oldest + window, now))
    db.session.commit()
    if retry_after:
        # A refused attempt never reached the password: it does not push the lockout further.
        with write_transaction():
            execute_core(delete(_ATTEMPTS).where(_ATTEMPTS.c.id == attempt_id))
        raise TooManyAttempts(retry_after)
    return attempt_id


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def purge_old_attempts(now: datetime | None = None) -> int:
    """Delete attempts older than both windows (the job's housekeeping); returns how many."""
    now = now or utcnow()
    longest = max(window for _amount, window in limits().values())
    with write_transaction():
        return execute_core(delete(_ATTEMPTS).where(_ATTEMPTS.c.at < now - longest)).rowcount
