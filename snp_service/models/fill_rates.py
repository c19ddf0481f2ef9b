"""Daily fill-rate snapshots: offered and filled slots per CPTS, practitioner and Europe/Paris day.

Dashboards and reports read these few rows instead of rescanning the slots; the
job recomputes the recent days, so a late cancellation is counted.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class FillRateSnapshot(db.Model):
    __tablename__ = "fill_rate_snapshot"
    __table_args__ = (
        UniqueConstraint("cpts_id", "practitioner_id", "day", name="uq_fill_rate_snapshot"),
        CheckConstraint("offered >= 0 AND filled >= 0 AND filled <= offered", name="filled_within_offered"),
        Index("ix_fill_rate_snapshot_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpts_id: Mapped[int] = mapped_column(ForeignKey("cpts.id", ondelete="CASCADE"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    offered: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def fill_rate(self) -> float | None:
        return self.filled / self.offered if self.offered else None
