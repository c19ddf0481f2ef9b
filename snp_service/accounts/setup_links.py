"""One-time password set-up links: a coordinator issues one and hands it over (no e-mail is sent); the person
chooses their password through it. Only a SHA-256 of its secret is stored; a link serves once, for
``PASSWORD_SETUP_LINK_HOURS``, and issuing a new one ends the earlier unused ones.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import audit, policy
from ..core.database import write_transaction
from ..core.errors import Conflict, NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import PasswordSetupLink, User
from . import passwords
from .tokens import secret_hash
from .users import end_sessions_and_tokens


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
        link = PasswordSetupLink(user_id=user.id, secret_hash=secret_hash(secret), created_at=now,
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
        user.password_hash = passwords.hash_password(new_password)
        end_sessions_and_tokens(user.id)
        audit.record(user, "user.password_link_redeem", user, after={"link_id": link.id})
    return user


def _live_setup_link(secret: str, for_update: bool = False) -> tuple[PasswordSetupLink, User]:
    query = select(PasswordSetupLink).where(PasswordSetupLink.secret_hash == secret_hash(secret or ""))
    link = db.session.scalar(query.with_for_update() if for_update else query)
    user = db.session.get(User, link.user_id) if link is not None else None
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or user is None or not user.active:
        raise NotFound("Ce lien n'est pas valable : il a déjà servi, a expiré ou a été remplacé. "
                       "Demandez un nouveau lien à votre coordinateur.", code="setup_link_invalid")
    return link, user


