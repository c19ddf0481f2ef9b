"""Practitioners, user accounts and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow
from .territory import Cpts, practitioner_cpts, user_cpts

ROLES = ("admin", "coordinator", "regulator", "gp")
PROFESSIONS = ("gp", "nurse", "physiotherapist", "pharmacist", "midwife")


class Practitioner(db.Model):
    __tablename__ = "practitioner"
    __table_args__ = (
        CheckConstraint("length(rpps) = 11", name="rpps_length"),
        CheckConstraint(f"profession IN {PROFESSIONS}", name="profession_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    profession: Mapped[str] = mapped_column(String(20), default="gp")
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    # The practice's national structure id, FINESS first, else SIRET (the SAS platform's order of preference).
    practice_finess: Mapped[str | None] = mapped_column(String(9))
    practice_siret: Mapped[str | None] = mapped_column(String(14))
    # The practitioner's own choice to show their free slots to the SAS platform (SPEC section 7).
    sas_participation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Secret of the practitioner's iCalendar feed; rotating it kills the old URL.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cpts: Mapped[list[Cpts]] = relationship(secondary=practitioner_cpts, order_by=Cpts.id)

    @property
    def cpts_ids(self) -> list[int]:
        return [c.id for c in self.cpts]

    @property
    def display_name(self) -> str:
        title = "Dr " if self.profession == "gp" else ""
        return f"{title}{self.first_name} {self.last_name}"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role_known"),
        CheckConstraint("role != 'gp' OR practitioner_id IS NOT NULL", name="gp_has_practitioner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cpts: Mapped[list[Cpts]] = relationship(secondary=user_cpts, order_by=Cpts.id)
    practitioner: Mapped[Practitioner | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts.
        return self.active

    @property
    def cpts_ids(self) -> list[int]:
        return [c.id for c in self.cpts]


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
