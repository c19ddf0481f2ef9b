"""The SNP supplement: each regulated act's evaluation, and the append-only ledger of amounts.

``SupplementAct`` is the latest verdict on an act (eligible, or the rule that
excluded it) so a GP can see why an act earned nothing. ``SupplementLine`` is
accounting: a correction is a new reversal line, never an edit of a past line.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow

# In the order the rules are applied; the weekly cap only counts acts that passed the others.
SUPPLEMENT_EXCLUSIONS = ("treating_doctor", "delay_over_48h", "pdsa_hours", "weekly_cap")
LEDGER_KINDS = ("accrual", "reversal")


class SupplementAct(db.Model):
    __tablename__ = "supplement_act"
    __table_args__ = (
        CheckConstraint(
            f"(eligible AND excluded_by IS NULL) OR (NOT eligible AND excluded_by IN {SUPPLEMENT_EXCLUSIONS})",
            name="verdict_consistent",
        ),
        Index("ix_supplement_act_practitioner_month", "practitioner_id", "month"),
        Index("ix_supplement_act_start", "start_at"),
    )

    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "2020-07": the Europe/Paris month of the slot, the statement's period.
    month: Mapped[str] = mapped_column(String(7))
    channel: Mapped[str] = mapped_column(String(10))
    eligible: Mapped[bool]
    excluded_by: Mapped[str | None] = mapped_column(String(20))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupplementLine(db.Model):
    __tablename__ = "supplement_line"
    __table_args__ = (
        CheckConstraint(f"kind IN {LEDGER_KINDS}", name="kind_known"),
        CheckConstraint(
            "(kind = 'accrual' AND amount_cents > 0) OR (kind = 'reversal' AND amount_cents < 0)",
            name="sign_matches_kind",
        ),
        Index("ix_supplement_line_practitioner_month", "practitioner_id", "month"),
        Index("ix_supplement_line_booking", "booking_id"),
        # The nightly re-evaluation reads the open weeks' months only, whatever the ledger's history.
        Index("ix_supplement_line_month", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    # No cascade: deleting a booking must not silently rewrite what was accrued for it.
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"))
    month: Mapped[str] = mapped_column(String(7))
    amount_cents: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
