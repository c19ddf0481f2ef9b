"""Known devices: OWASP's "device cookies", so that a lockout cannot be turned against the user.

Whoever knows a regulator's e-mail can type wrong passwords until the account is locked. A browser (or
API client) that signed in to an account before holds a *device token* for it: the account's id and a
random nonce, signed with the secret key (HMAC, itsdangerous) and dated, so it expires after
``KNOWN_DEVICE_DAYS``. It holds no secret: it only says "this device signed in to account N once".
``sign_in`` counts the failures of such a device against that device alone, and the failures of every
other device against the account's "unknown devices", so hammering an e-mail locks unknown devices
only and the regulator on shift keeps signing in from their own browser.

A page browser keeps the tokens of its last ``MAX_ACCOUNTS`` accounts in one cookie (a shared desk of a
116 117 centre signs in several regulators); an API client gets its token in the sign-in answer and
presents it with the next sign-in (``device_token``). Nothing is stored on the server but the nonce of
each failed attempt (``SignInAttempt.device``).
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE_NAME = "snp_device"
# Accounts remembered by one browser; the oldest is forgotten first.
MAX_ACCOUNTS = 5
# Tokens are joined by this (not a character of a token, allowed in a cookie).
_SEPARATOR = "~"
# Longer than MAX_ACCOUNTS tokens: anything past it is not read (the cost is bounded before any check).
MAX_LENGTH = 1500
_SALT = "snp.known-device"


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["KNOWN_DEVICE_DAYS"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def issue(user_id: int) -> str:
    """A new device token for the account ``user_id``."""
    return _serializer().dumps([user_id, secrets.token_hex(16)])


def _valid(presented: str | None) -> list[tuple[int, str, str]]:
    """(account id, nonce, token) of each genuine, unexpired token in ``presented``, in its order."""
    if not presented or len(presented) > MAX_LENGTH:
        return []
    found = []
    for token in presented.split(_SEPARATOR)[:MAX_ACCOUNTS]:
        try:
            user_id, nonce = _serializer().loads(token, max_age=lifetime().total_seconds())
        except (BadData, TypeError, ValueError):
            continue
        if isinstance(user_id, int) and isinstance(nonce, str):
            found.append((user_id, nonce, token))
    return found


def accounts_of(presented: str | None) -> dict[int, str]:
    """The accounts ``presented`` vouches for: account id -> the device's nonce for it."""
    return {user_id: nonce for user_id, nonce, _token in reversed(_valid(presented))}


def remember(user_id: int, presented: str | None) -> str:
    """What the browser holds after signing in to ``user_id``: a new token for it, first, then its other
    accounts' valid tokens, at most ``MAX_ACCOUNTS``."""
    others = [token for other_id, _nonce, token in _valid(presented) if other_id != user_id]
    return _SEPARATOR.join([issue(user_id), *others][:MAX_ACCOUNTS])
