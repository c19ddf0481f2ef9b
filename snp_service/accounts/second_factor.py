"""The second factor of a password sign-in (issue 25): TOTP (RFC 6238, pyotp) and 10 one-time recovery codes.

- ``enrol``: the person scans a QR code drawn here (SVG by segno, inline: nothing from another host), types a
  code from the app, and gets 10 recovery codes, shown once and stored as SHA-256 hashes.
- ``verify``: a TOTP code of the current step or one step either side, never one already used (the step is
  kept), or an unused recovery code, spent at once (one ``UPDATE ... WHERE used_at IS NULL``: two requests
  cannot both spend it).
- ``REQUIRE_SECOND_FACTOR`` (on in production): a password sign-in without one goes to the enrolment page
  first, and the API refuses a token until the account has one. A Pro Santé Connect sign-in is strong
  already and asks for none.
- ``reset``: a coordinator of the account's CPTS, or an admin (``policy.check_second_factor_reset``), removes
  it after a lost phone; the person enrols again at their next sign-in. Audited, as are enrolment and every
  recovery code spent.

The TOTP secret is kept encrypted (Fernet) with a key derived from ``SECRET_KEY``: changing SECRET_KEY makes
every enrolled account enrol again (the coordination resets them).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, func, select, update

from .. import audit, policy
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound, Unauthorized
from ..core.extensions import db
from ..core.fast_paths import execute_core
from ..core.timeutil import utcnow
from ..models import RecoveryCode, SecondFactor, User

RECOVERY_CODES = 10
# What the authenticator app shows above the codes.
ISSUER_NAME = "SNP CPTS"
# A code typed: 6 digits (TOTP) or a recovery code (12 letters and digits, dashes and spaces ignored).
MAX_CODE_LENGTH = 32
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODES = RecoveryCode.__table__


class SecondFactorRequired(Unauthorized):
    code = "second_factor_required"
    counted = False  # the password was right: not a failed sign-in attempt


def required() -> bool:
    return bool(current_app.config.get("REQUIRE_SECOND_FACTOR"))


def enrolled(user_id: int) -> bool:
    return db.session.scalar(select(SecondFactor.id).where(SecondFactor.user_id == user_id)) is not None


def must_enrol(user: User) -> bool:
    return required() and not enrolled(user.id)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG markup (no script, no style element, no external reference)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title="Code QR de la double authentification")


def _fernet() -> Fernet:
    key = hashlib.sha256(b"snp.second-factor:" + current_app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str | None) -> str:
    return re.sub(r"[\s-]", "", (code or "")[:MAX_CODE_LENGTH]).lower()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The TOTP step (now, or one either side) whose code is ``code``, if not already used."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enrol(user: User, secret: str, code: str | None) -> list[str]:
    """Keep ``secret`` as the account's second factor once ``code`` proves the app holds it; returns the 10
    recovery codes (shown once: only their hashes are kept)."""
    code = _normalise(code)
    if not re.fullmatch(r"\d{6}", code) or _matching_step(secret, code, None) is None:
        raise Invalid("Code incorrect : saisissez le code à 6 chiffres affiché par l'application.",
                      code="invalid_otp", fields={"code": ["wrong TOTP code"]})
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    with write_transaction():
        if enrolled(user.id):
            raise Conflict("La double authentification est déjà activée pour ce compte.", code="already_enrolled")
        factor = SecondFactor(user_id=user.id, secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
                              last_step=_matching_step(secret, code, None), created_at=utcnow())
        db.session.add(factor)
        db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(_normalise(c))) for c in codes)
        audit.record(user, "second_factor.enrol", factor, after={"user_id": user.id, "recovery_codes": RECOVERY_CODES})
    return codes


def verify(user: User, code: str | None) -> bool:
    """Whether ``code`` is a fresh TOTP code of the account or one of its unused recovery codes (then spent)."""
    code = _normalise(code)
    if not code:
        return False
    with write_transaction():
        factor = db.session.scalar(select(SecondFactor).where(SecondFactor.user_id == user.id))
        if factor is None:
            return False
        if re.fullmatch(r"\d{6}", code):
            try:
                secret = _fernet().decrypt(factor.secret_encrypted.encode()).decode()
            except InvalidToken:  # SECRET_KEY changed since enrolment
                return False
            step = _matching_step(secret, code, factor.last_step)
            if step is None:
                return False
            # Only if no concurrent request took this step (or a later one) meanwhile.
            taken = execute_core(update(SecondFactor.__table__).where(
                SecondFactor.__table__.c.id == factor.id,
                (SecondFactor.__table__.c.last_step.is_(None)) | (SecondFactor.__table__.c.last_step < step))
                .values(last_step=step)).rowcount
            return taken == 1
        spent = execute_core(update(_CODES).where(_CODES.c.user_id == user.id, _CODES.c.code_hash == _hash(code),
                                                  _CODES.c.used_at.is_(None)).values(used_at=utcnow())).rowcount
        if spent != 1:
            return False
        left = db.session.scalar(select(func.count()).select_from(_CODES).where(
            _CODES.c.user_id == user.id, _CODES.c.used_at.is_(None)))
        audit.record(user, "second_factor.recovery_code_used", factor, after={"user_id": user.id, "left": left})
    return True


def recovery_codes_left(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(_CODES).where(
        _CODES.c.user_id == user_id, _CODES.c.used_at.is_(None))) or 0


def check_for_token(user: User, code: str | None) -> None:
    """The API's rule (``POST /auth/token``): an account with a second factor gives ``otp``; an account that
    must enrol cannot get a token before it did, on the page."""
    if enrolled(user.id):
        if not code:
            raise SecondFactorRequired("Code de double authentification requis (otp)")
        if not verify(user, code):
            raise Unauthorized("Identifiants invalides", code="invalid_credentials")
    elif required():
        raise SecondFactorRequired("Activez d'abord la double authentification en vous connectant sur le site")


def reset(actor: User, account_id: int) -> User:
    """Remove the account's second factor and recovery codes (a lost phone): it enrols again."""
    with write_transaction():
        user = db.session.get(User, account_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_second_factor_reset(actor, user)
        removed = execute_core(delete(SecondFactor.__table__).where(SecondFactor.__table__.c.user_id == user.id)).rowcount
        execute_core(delete(_CODES).where(_CODES.c.user_id == user.id))
        audit.record(actor, "second_factor.reset", user, before={"enrolled": bool(removed)}, after={"enrolled": False})
    return user


def enrolled_ids(accounts: list[User]) -> set[int]:
    if not accounts:
        return set()
    return set(db.session.scalars(select(SecondFactor.user_id).where(
        SecondFactor.user_id.in_([a.id for a in accounts]))))
