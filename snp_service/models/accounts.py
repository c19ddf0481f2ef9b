"""User accounts and their API tokens."""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..data.confusables import skeleton
from .cpts import Cpts, user_cpts
from .practitioners import Practitioner



class Role(Codes):
    """What an account is for: the coordination of CPTS (or all of them), taking calls, a practitioner's own."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    REGULATOR = "regulator"
    GP = "gp"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(Role.sql_in("role"), name="role_known"),
        CheckConstraint(f"role != '{Role.GP}' OR practitioner_id IS NOT NULL", name="gp_has_practitioner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # SHA-256 of the e-mail's UTS #39 skeleton (``confusables``): no two accounts whose addresses look
    # alike (a Cyrillic "а" for "a"), held by the database. Set with the e-mail; None only for an account
    # that already looked like another when the rule came (the migration keeps the older one's).
    email_skeleton: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cpts: Mapped[list[Cpts]] = relationship(secondary=user_cpts, order_by=Cpts.id)
    practitioner: Mapped[Practitioner | None] = relationship()

    @validates("email")
    def _keep_email_skeleton(self, _key, email: str) -> str:
        if email != self.email:  # the same address again keeps what it had (None included, see above)
            self.email_skeleton = email_skeleton(email)
        return email

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts.
        return self.active

    @property
    def cpts_ids(self) -> list[int]:
        return [c.id for c in self.cpts]


def email_skeleton(email: str) -> str:
    return hashlib.sha256(skeleton(email).encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the bearer secret is kept: a database leak gives no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
