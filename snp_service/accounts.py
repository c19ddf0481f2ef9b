"""Accounts: users, passwords, API tokens, password set-up links.

Passwords use Werkzeug's scrypt hashing and the policy of ``passwords``; bearer tokens are
random secrets of which only a SHA-256 is stored, with an expiry and a revocation time.
Deactivating an account or changing its password ends its page sessions and revokes its tokens.
A password set-up link (no e-mail is sent: a coordinator hands it over) is such a secret too, good
once, for ``PASSWORD_SETUP_LINK_HOURS``.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, page_sessions, passwords, policy
from .core import hygiene
from .core.database import write_transaction
from .core.errors import Conflict, Invalid, NotFound, Unauthorized
from .core.extensions import db
from .core.fast_paths import as_loaded, execute_core
from .core.timeutil import utcnow
from .models import ROLES, ApiToken, Cpts, PasswordSetupLink, Practitioner, User, user_cpts
from .models.accounts import email_skeleton


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so both failures take the same time (made on first use)."""
    return hash_password("not-a-real-password")


def normalise_email(email: str) -> str:
    """The one form an address is stored, compared and looked up in: NFKC, case-folded (Unicode's
    NFKC_Casefold, less the removal of default ignorables, which an address may not hold at all).
    ``Jean.Dupont@X.fr`` and full-width ``ｊｅａｎ.ｄｕｐｏｎｔ@ｘ.ｆｒ`` are ``jean.dupont@x.fr``."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def email_problem(email: str) -> str | None:
    """Why the (normalised) ``email`` cannot be an account's address, or None."""
    if "@" not in email or len(email) > 254:
        return "invalid email"
    if hygiene.hidden_in_email(email):
        return "invalid email: holds a space, a control or a bidirectional character"
    return None


def email_holder(email: str, other_than: User | None = None) -> User | None:
    """The account, other than ``other_than``, whose address is the (normalised) ``email`` or looks like it:
    the same UTS #39 skeleton (``pаul@x.fr`` with a Cyrillic "а" for ``paul@x.fr``)."""
    query = select(User).where(or_(User.email == email, User.email_skeleton == email_skeleton(email)))
    if other_than is not None and other_than.id is not None:
        query = query.where(User.id != other_than.id)
    return db.session.scalar(query.order_by(User.email != email).limit(1))


def email_conflict(holder: User, email: str) -> Conflict:
    if holder.email == email:
        return Conflict("Un compte existe déjà avec cet e-mail", code="email_taken", fields={"email": ["already used"]})
    # Which account it imitates is not said: it may belong to another CPTS.
    return Conflict("Cette adresse ressemble à s'y méprendre à celle d'un compte existant (caractères d'un autre "
                    "alphabet ou d'apparence identique) : choisissez-en une autre.", code="email_confusable",
                    fields={"email": ["looks like the address of an existing account"]})


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


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, ttl: timedelta) -> tuple[str, ApiToken]:
    secret = secrets.token_urlsafe(32)
    with write_transaction():
        token = ApiToken(user_id=user.id, token_hash=_token_hash(secret), expires_at=utcnow() + ttl)
        db.session.add(token)
        audit.record(user, "token.issue", token)
    return secret, token


def user_for_token(secret: str) -> User | None:
    """The active user of a live (known, unrevoked, unexpired) token, or None.

    One query on every API request: the user comes with the ids the scope checks read
    (the CPTS the account was given, and the CPTS sharing a regulation area with those),
    kept by ``policy`` for the rest of the request. A linked practitioner's CPTS give no scope.
    """
    rows = execute_core(_user_for_token_statement(), {"token_hash": _token_hash(secret), "now": utcnow()}).all()
    if not rows:
        return None
    user = as_loaded(User, dict(zip(_USER_KEYS, rows[0])))
    member = {row.own_cpts_id for row in rows if row.own_cpts_id}
    policy.remember_scope(user, member, {row.area_cpts_id for row in rows if row.area_cpts_id})
    return user


_USER_KEYS = tuple(column.key for column in User.__table__.columns)


@cache
def _user_for_token_statement():
    # Built once with bind parameters: composing the statement costs more than running it. Plain
    # columns, not the mapped class: the ORM's loading cost more than the query (every API request runs
    # it). The CPTS come as plain ids, one row per combination.
    users = User.__table__
    user_cpts_row, own_cpts = aliased(user_cpts), aliased(Cpts)
    area_cpts = aliased(Cpts)
    return (
        select(*users.columns, own_cpts.id.label("own_cpts_id"), area_cpts.id.label("area_cpts_id"))
        .join(ApiToken, ApiToken.user_id == users.c.id)
        .outerjoin(user_cpts_row, user_cpts_row.c.user_id == users.c.id)
        .outerjoin(own_cpts, own_cpts.id == user_cpts_row.c.cpts_id)
        # An empty area name is no area (as in policy): '' = '' must not join unrelated CPTS.
        .outerjoin(area_cpts, and_(area_cpts.regulation_area != "", area_cpts.regulation_area == own_cpts.regulation_area))
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > bindparam("now", type_=ApiToken.expires_at.type), users.c.active.is_(True))
    )


def revoke_token(secret: str, actor: User) -> None:
    with write_transaction():
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
        if token is None or token.revoked_at is not None:
            return
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", token)


def create_user(actor, *, email: str, password: str, role: str, cpts_ids: list[int] = (),
                practitioner_id: int | None = None) -> User:
    """Create an account, if ``actor`` may (``policy.check_account_creation``).

    Its scope is exactly ``cpts_ids``. Only a GP account is linked to a practitioner, and only to a
    member of each of those CPTS: a link never widens an account's scope.
    """
    policy.check_account_creation(actor, role, cpts_ids, practitioner_id)
    email = normalise_email(email)
    _check_new_user(email, password, role, practitioner_id)
    with write_transaction():
        holder = email_holder(email)
        if holder is not None:
            raise email_conflict(holder, email)
        cpts = _load_cpts(cpts_ids)
        if practitioner_id is not None:
            _check_practitioner_of(db.session.get(Practitioner, practitioner_id), cpts)
        user = User(email=email, password_hash=hash_password(password), role=role,
                    practitioner_id=practitioner_id, cpts=cpts)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # created meanwhile by a concurrent request (the database holds both rules)
            raise Conflict("Un compte existe déjà avec cet e-mail, ou une adresse qui lui ressemble",
                           code="email_taken", fields={"email": ["already used"]}) from None
        audit.record(actor, "user.create", user, after={"role": role, "cpts_ids": list(cpts_ids),
                                                        "practitioner_id": practitioner_id})
    return user


def _check_practitioner_of(practitioner: Practitioner | None, cpts: list[Cpts]) -> None:
    if practitioner is None:
        raise Invalid("Praticien inconnu", fields={"practitioner_id": ["unknown practitioner"]})
    outside = [c.name for c in cpts if c.id not in set(practitioner.cpts_ids)]
    if outside:
        raise Invalid(f"Ce praticien n'est pas membre de : {', '.join(outside)}", code="practitioner_not_member",
                      fields={"practitioner_id": ["not a member of every CPTS of the account"]})


def set_user_active(actor, user_id: int, active: bool) -> User:
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        before = {"active": user.active}
        user.active = active
        if not active:
            _end_sessions_and_tokens(user.id)
        audit.record(actor, "user.activate" if active else "user.deactivate", user, before, {"active": active})
    return user


def change_password(actor, user_id: int, new_password: str) -> User:
    """Set a new password (policy checked); every page session and API token of the account ends."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        passwords.check_new_password(new_password, user.email)
        user.password_hash = hash_password(new_password)
        _end_sessions_and_tokens(user.id)
        audit.record(actor, "user.password_change", user)
    return user


def issue_setup_link(actor, user_id: int) -> tuple[str, PasswordSetupLink]:
    """A new one-time password set-up link for the account, if ``actor`` may manage it
    (``policy.check_account_management``); the account's earlier unused links stop working.
    Returns the secret (shown once, never stored) and the link."""
    secret = secrets.token_urlsafe(32)
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        if not user.active:
            raise Conflict("Ce compte est désactivé : réactivez-le avant de lui donner un lien.", code="account_inactive")
        now = utcnow()
        db.session.execute(update(PasswordSetupLink)
                           .where(PasswordSetupLink.user_id == user.id, PasswordSetupLink.used_at.is_(None),
                                  PasswordSetupLink.expires_at > now)
                           .values(expires_at=now))
        link = PasswordSetupLink(user_id=user.id, secret_hash=_token_hash(secret), created_at=now,
                                 expires_at=now + timedelta(hours=current_app.config["PASSWORD_SETUP_LINK_HOURS"]),
                                 created_by_id=actor.id if isinstance(actor, User) else None)
        db.session.add(link)
        db.session.flush()
        audit.record(actor, "user.password_link_issue", user, after={"link_id": link.id, "expires_at": link.expires_at.isoformat()})
    return secret, link


def setup_link_account(secret: str) -> User:
    """The account a live set-up link is for; NotFound (nothing about the account) otherwise."""
    return _live_setup_link(secret)[1]


def redeem_setup_link(secret: str, new_password: str) -> User:
    """Set the account's password through its one-time link (policy checked), which is then used up;
    every page session and API token of the account ends. Changes nothing when refused."""
    with write_transaction():
        link, user = _live_setup_link(secret, for_update=True)
        passwords.check_new_password(new_password, user.email)
        link.used_at = utcnow()
        user.password_hash = hash_password(new_password)
        _end_sessions_and_tokens(user.id)
        audit.record(user, "user.password_link_redeem", user, after={"link_id": link.id})
    return user


def _live_setup_link(secret: str, for_update: bool = False) -> tuple[PasswordSetupLink, User]:
    query = select(PasswordSetupLink).where(PasswordSetupLink.secret_hash == _token_hash(secret or ""))
    link = db.session.scalar(query.with_for_update() if for_update else query)
    user = db.session.get(User, link.user_id) if link is not None else None
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or user is None or not user.active:
        raise NotFound("Ce lien n'est pas valable : il a déjà servi, a expiré ou a été remplacé. "
                       "Demandez un nouveau lien à votre coordinateur.", code="setup_link_invalid")
    return link, user


def _end_sessions_and_tokens(user_id: int) -> None:
    page_sessions.end_sessions_of(user_id)
    db.session.query(ApiToken).filter_by(user_id=user_id, revoked_at=None).update({"revoked_at": utcnow()})


def _check_new_user(email: str, password: str, role: str, practitioner_id: int | None) -> None:
    errors = {}
    message = "Compte invalide"
    if email_problem(email):
        errors["email"] = [email_problem(email)]
    password_problem = passwords.password_problem(password, email)
    if password_problem:
        errors["password"] = [password_problem[0]]
        message = f"Compte invalide : mot de passe refusé. {password_problem[1]}"
    if role not in ROLES:
        errors["role"] = [f"one of {', '.join(ROLES)}"]
    if role == "gp" and practitioner_id is None:
        errors["practitioner_id"] = ["required for a gp account"]
    if role != "gp" and practitioner_id is not None:
        errors["practitioner_id"] = ["only a gp account is linked to a practitioner"]
        message = "Compte invalide : seul un compte médecin est rattaché à un praticien."
    if errors:
        raise Invalid(message, fields=errors)


def _load_cpts(cpts_ids) -> list[Cpts]:
    cpts = [db.session.get(Cpts, cpts_id) for cpts_id in cpts_ids]
    if any(c is None for c in cpts):
        raise Invalid("CPTS inconnue", fields={"cpts_ids": ["unknown CPTS"]})
    return cpts
