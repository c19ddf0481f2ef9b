"""The CPTS record: territory, communes, memberships of practitioners and accounts."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Column, Date, Float, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy import select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow

if TYPE_CHECKING:  # the relationship resolves the name through the model registry
    from .seasons import Season

# ACI size classes by population: (upper bound exclusive, class).
SIZE_CLASS_BOUNDS = ((40_000, 1), (80_000, 2), (175_000, 3))


def size_class_for(population: int) -> int:
    for bound, size_class in SIZE_CLASS_BOUNDS:
        if population < bound:
            return size_class
    return 4


practitioner_cpts = Table(
    "practitioner_cpts",
    db.metadata,
    Column("practitioner_id", ForeignKey("practitioner.id", ondelete="CASCADE"), primary_key=True),
    # The primary key (practitioner_id, cpts_id) does not serve "the practitioners of these CPTS".
    Column("cpts_id", ForeignKey("cpts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

def members_of(cpts_ids):
    """The ids of the practitioners of the CPTS ``cpts_ids`` (ids, or an expanding bind parameter), for ``IN``.

    A practitioner belongs to one or more CPTS: every "the practitioners of these CPTS" of the
    service is this subquery.
    """
    return select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(cpts_ids))


user_cpts = Table(
    "user_cpts",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("cpts_id", ForeignKey("cpts.id", ondelete="CASCADE"), primary_key=True),
)


class Cpts(db.Model):
    __tablename__ = "cpts"
    __table_args__ = (CheckConstraint("population >= 0", name="population_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    population: Mapped[int] = mapped_column(Integer)
    # CPTS sharing a regulation area may have their slots booked by each other's regulators.
    regulation_area: Mapped[str | None] = mapped_column(String(100), index=True)
    # The CPTS's 9-character FINESS number: the SAS platform names the CPTS by it (SPEC section 7).
    finess: Mapped[str | None] = mapped_column(String(9))
    aci_signed_on: Mapped[date | None] = mapped_column(Date)
    aci_missions: Mapped[list] = mapped_column(JSON, default=list)
    indicator_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    communes: Mapped[list[Commune]] = relationship(
        back_populates="cpts", cascade="all, delete-orphan", order_by="Commune.name"
    )
    seasons: Mapped[list[Season]] = relationship(
        back_populates="cpts", cascade="all, delete-orphan", order_by="Season.start_date"
    )

    @property
    def size_class(self) -> int:
        return size_class_for(self.population)


class Commune(db.Model):
    __tablename__ = "commune"
    __table_args__ = (
        UniqueConstraint("cpts_id", "insee"),
        CheckConstraint("length(insee) = 5", name="insee_length"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpts_id: Mapped[int] = mapped_column(ForeignKey("cpts.id", ondelete="CASCADE"), index=True)
    insee: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # A commune may have several postal codes: this is the one its practices default to.
    postal_code: Mapped[str | None] = mapped_column(String(5))

    cpts: Mapped[Cpts] = relationship(back_populates="communes")
