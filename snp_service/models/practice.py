"""What the practice space keeps in the real database: who practised (no patient data: the callers are fictional),
and who has seen the first-sign-in tour."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow


class PracticeRun(db.Model):
    """One scripted caller handled in the practice space, and its score."""

    __tablename__ = "practice_run"
    __table_args__ = (Index("ix_practice_run_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    scenario: Mapped[str] = mapped_column(String(40))
    duration_ms: Mapped[int] = mapped_column(Integer)
    navigation_keys: Mapped[int] = mapped_column(Integer)
    typed_chars: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TourSeen(db.Model):
    """An account that finished or skipped the first-sign-in tour: it is not shown again (replayable from Aide)."""

    __tablename__ = "tour_seen"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
