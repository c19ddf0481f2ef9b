"""What signing in leaves on the server: page sessions, recent failed attempts, password set-up links.

Both live in the database so every worker and every instance sees the same ones: a session
ended on one instance is ended everywhere, and failed attempts spread over several instances
count together.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db


class PageSession(db.Model):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is kept here,
    so a database leak gives no usable session. Ending a session deletes its row."""

    __tablename__ = "page_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInAttempt(db.Model):
    """A sign-in attempt that has not (yet) succeeded: counted per account (per known device, or for the
    unknown devices together) and per client address (``sign_in``).

    A row is written before the password is checked and removed if it was right, so concurrent
    attempts cannot all pass the count before any of them is recorded. The account is a SHA-256 of
    the normalised e-mail typed, whether or not such an account exists (nothing to tell them apart).
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_account_at", "account_key", "at"),
        Index("ix_sign_in_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    # The client address (IPv4 or IPv6 text), as seen through the trusted proxies.
    address: Mapped[str] = mapped_column(String(45))
    # The nonce of the device token the client presented for this account (``known_devices``); None for
    # an unknown device. A nonce alone proves nothing: only the signed token does.
    device: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PasswordSetupLink(db.Model):
    """A one-time link a coordinator hands to someone so they choose their password (no e-mail is sent:
    an account the SAS platform creates has a password nobody knows). Only a SHA-256 of the secret is
    kept; a link serves once, until ``expires_at``, and issuing a new one ends the earlier unused ones."""

    __tablename__ = "password_setup_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who issued it; the link outlives the issuer's account (the audit event keeps the name).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
