"""Practitioners: the GPs (and other professionals) who publish SNP slots, members of one or more CPTS."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .cpts import Cpts, practitioner_cpts



class Profession(Codes):
    GP = "gp"
    NURSE = "nurse"
    PHYSIOTHERAPIST = "physiotherapist"
    PHARMACIST = "pharmacist"
    MIDWIFE = "midwife"


def display_name(profession: str, first_name: str, last_name: str) -> str:
    """A practitioner's name as every page and message writes it: "Dr" only before a physician's."""
    title = "Dr " if profession == Profession.GP else ""
    return f"{title}{first_name} {last_name}"


def new_calendar_token() -> str:
    """A fresh secret for a practitioner's iCalendar feed URL."""
    return secrets.token_urlsafe(32)


class Practitioner(db.Model):
    __tablename__ = "practitioner"
    __table_args__ = (
        CheckConstraint("length(rpps) = 11", name="rpps_length"),
        CheckConstraint(Profession.sql_in("profession"), name="profession_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    profession: Mapped[str] = mapped_column(String(20), default=Profession.GP.value)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    # The practice's national structure id, FINESS first, else SIRET (the SAS platform's order of preference).
    practice_finess: Mapped[str | None] = mapped_column(String(9))
    practice_siret: Mapped[str | None] = mapped_column(String(14))
    # The practitioner's own choice to show their free slots to the SAS platform (SPEC section 7).
    sas_participation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Their choice to receive the regulators' slot requests ("Recevoir les demandes de créneau"): off by default.
    takes_requests: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Secret of the practitioner's iCalendar feed, made with the practitioner (so that no GET has to
    # write it); rotating it kills the old URL.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=new_calendar_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cpts: Mapped[list[Cpts]] = relationship(secondary=practitioner_cpts, order_by=Cpts.id)

    @property
    def cpts_ids(self) -> list[int]:
        return [c.id for c in self.cpts]

    @property
    def display_name(self) -> str:
        return display_name(self.profession, self.first_name, self.last_name)
