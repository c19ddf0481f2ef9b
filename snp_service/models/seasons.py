"""Seasons: named ranges of Europe/Paris days of one CPTS ("Été 2026", 13/07-10/09)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import db
from .cpts import Cpts


class Season(db.Model):
    __tablename__ = "season"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        UniqueConstraint("cpts_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpts_id: Mapped[int] = mapped_column(ForeignKey("cpts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)

    cpts: Mapped[Cpts] = relationship(back_populates="seasons")
