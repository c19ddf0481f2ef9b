"""A password sign-in's second factor (issue 25): a TOTP secret (RFC 6238) and one-time recovery codes.

The TOTP secret must be read back to check a code, so it is kept encrypted with a key derived from the
service's SECRET_KEY (``accounts.second_factor``): a database leak alone gives no usable secret. Recovery
codes are kept as SHA-256 hashes only (each is long and random) and serve once (``used_at``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow


class SecondFactor(db.Model):
    __tablename__ = "second_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    # Fernet token of the base32 TOTP secret.
    secret_encrypted: Mapped[str] = mapped_column(String(300))
    # The last TOTP time step accepted: a code serves once (RFC 6238 section 5.2).
    last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
