"""Slots, bookings and the patients they are for.

The two invariants that matter most are held by the database itself:
- one active booking per slot: a partial unique index on ``booking(slot_id)``;
- no overlapping non-withdrawn slots of one practitioner: an exclusion
  constraint on PostgreSQL, triggers on SQLite; the publishing service also
  checks first (inside ``BEGIN IMMEDIATE`` on SQLite) to name the clashing slot.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, CheckConstraint, Date, ForeignKey, Index, String, event, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow
from .people import Practitioner, User

SLOT_MODES = ("office", "teleconsultation", "home_visit")
SLOT_STATUSES = ("free", "booked", "withdrawn", "expired")
BOOKING_STATUSES = ("booked", "cancelled")
OUTCOMES = ("honored", "no_show")
CHANNELS = ("116117", "sas", "15", "other")
REGULATED_CHANNELS = ("116117", "sas", "15")
TREATING_DOCTOR_ANSWERS = ("yes", "no", "unknown")
CANCELLED_BY = ("patient", "practitioner", "regulator", "coordinator")


class Slot(db.Model):
    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        CheckConstraint(f"mode IN {SLOT_MODES}", name="mode_known"),
        CheckConstraint(f"status IN {SLOT_STATUSES}", name="status_known"),
        # The regulator's search: free slots in a time window.
        Index("ix_slot_status_start", "status", "start_at"),
        Index("ix_slot_practitioner_start", "practitioner_id", "start_at"),
        # The search's probe: one practitioner's free slots in start order. Covering on PostgreSQL, so
        # that the probe never reads the table (the search names 'free' literally to use it).
        Index("ix_slot_free_practitioner_start", "practitioner_id", "start_at",
              postgresql_include=["id", "end_at", "mode"],
              postgresql_where=text("status = 'free'"), sqlite_where=text("status = 'free'")),
        ExcludeConstraint(
            ("practitioner_id", "="),
            (text("tstzrange(start_at, end_at)"), "&&"),
            name="ex_slot_no_overlap",
            using="gist",
            where=text("status != 'withdrawn'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(20), default="office")
    status: Mapped[str] = mapped_column(String(20), default="free")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every change of the row (booked, withdrawn, freed again): the open publication's ``_since`` reads it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    practitioner: Mapped[Practitioner] = relationship()


class Patient(db.Model):
    """Minimal patient data (health data under GDPR); identity erased after the retention period."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(f"has_treating_doctor IN {TREATING_DOCTOR_ANSWERS}", name="treating_answer_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    has_treating_doctor: Mapped[str] = mapped_column(String(10), default="unknown")
    treating_rpps: Mapped[str | None] = mapped_column(String(11))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print identity, even in a debugger or a traceback
        return f"<Patient {self.id}>"


class Booking(db.Model):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(f"status IN {BOOKING_STATUSES}", name="status_known"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES}", name="outcome_known"),
        CheckConstraint(f"channel IN {CHANNELS}", name="channel_known"),
        CheckConstraint(
            f"has_treating_doctor IS NULL OR has_treating_doctor IN {TREATING_DOCTOR_ANSWERS}",
            name="treating_answer_known",
        ),
        CheckConstraint(f"cancelled_by IS NULL OR cancelled_by IN {CANCELLED_BY}", name="cancelled_by_known"),
        # The database, not Python, guarantees at most one active booking per slot.
        Index(
            "uq_booking_active_slot", "slot_id", unique=True,
            sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'"),
        ),
        Index("uq_booking_idempotency", "booked_by_id", "idempotency_key", unique=True),
        Index("ix_booking_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), index=True)
    # Null for bookings imported from a past season: they carry no identity.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="booked")
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Kept on the booking (not only the patient) so reports survive the retention purge.
    has_treating_doctor: Mapped[str | None] = mapped_column(String(10))
    # The slot's practitioner is the patient's own treating doctor: no SNP supplement then.
    by_treating_doctor: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient | None] = relationship()
    booked_by: Mapped[User | None] = relationship()


# SQLite has no exclusion constraints: these triggers hold the same rule, so the
# database refuses an overlapping slot whatever code path writes it.
_SQLITE_OVERLAP_CHECK = """
CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON slot
WHEN NEW.status != 'withdrawn' AND EXISTS (
    SELECT 1 FROM slot AS other
    WHERE other.practitioner_id = NEW.practitioner_id AND other.status != 'withdrawn'
      AND other.id IS NOT NEW.id AND other.start_at < NEW.end_at AND other.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'ex_slot_no_overlap'); END
"""
SQLITE_OVERLAP_TRIGGERS = (
    _SQLITE_OVERLAP_CHECK.format(name="tr_slot_no_overlap_insert", event="INSERT"),
    _SQLITE_OVERLAP_CHECK.format(name="tr_slot_no_overlap_update", event="UPDATE OF start_at, end_at, status, practitioner_id"),
)
for _ddl in SQLITE_OVERLAP_TRIGGERS:
    event.listen(Slot.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))
