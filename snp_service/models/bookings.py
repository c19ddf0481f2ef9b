"""Bookings of slots, by whom and through which channel.

One active booking per slot is held by the database itself: a partial unique
index on ``booking(slot_id)``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .accounts import User
from .patients import Patient, TreatingDoctor
from .slots import Slot



class BookingStatus(Codes):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Outcome(Codes):
    """What became of a booking once its slot started: the patient was seen, or did not come."""

    HONORED = "honored"
    NO_SHOW = "no_show"


class Channel(Codes):
    """Through which regulation the booking came: the 116 117, the SAS platform, the centre 15, another one."""

    NUMBER_116117 = "116117"
    SAS = "sas"
    CENTRE_15 = "15"
    OTHER = "other"


class CancelledBy(Codes):
    """Who a cancellation is recorded as (``bookings.booking.CANCELLED_BY_ROLE``)."""

    PATIENT = "patient"
    PRACTITIONER = "practitioner"
    REGULATOR = "regulator"
    COORDINATOR = "coordinator"


class Booking(db.Model):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(BookingStatus.sql_in("status"), name="status_known"),
        CheckConstraint(f"outcome IS NULL OR {Outcome.sql_in('outcome')}", name="outcome_known"),
        CheckConstraint(Channel.sql_in("channel"), name="channel_known"),
        CheckConstraint(
            f"has_treating_doctor IS NULL OR {TreatingDoctor.sql_in('has_treating_doctor')}",
            name="treating_answer_known",
        ),
        CheckConstraint(f"cancelled_by IS NULL OR {CancelledBy.sql_in('cancelled_by')}", name="cancelled_by_known"),
        # The database, not Python, guarantees at most one active booking per slot.
        Index(
            "uq_booking_active_slot", "slot_id", unique=True,
            sqlite_where=text(f"status = '{BookingStatus.BOOKED}'"), postgresql_where=text(f"status = '{BookingStatus.BOOKED}'"),
        ),
        Index("uq_booking_idempotency", "booked_by_id", "idempotency_key", unique=True),
        Index("ix_booking_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), index=True)
    # The CPTS the booking was made for (``policy``: its patient is seen only there, and by the practitioner):
    # chosen when booking from the booker's scope and the practitioner's memberships, kept by a move; an
    # imported booking belongs to the importing CPTS. Null only for a row an older version wrote during an
    # upgrade: then only an admin and the practitioner see it.
    cpts_id: Mapped[int | None] = mapped_column(ForeignKey("cpts.id"))
    # Null for bookings imported from a past season: they carry no identity.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # A keyed hash of the request that used the key: the same key with another request is refused.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.BOOKED.value)
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
    # A move cancels a booking and makes this one: the booking it replaces, and when the first booking of that
    # chain was made (null: this booking is the first). The 48-hour rule of the supplement counts from then
    # (``supplements.rules.booked_at``): moving an act must not restart its clock.
    replaces_booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    first_booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patient confirmed they will come, from their own link (``bookings.patient_link``).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()
    patient: Mapped[Patient | None] = relationship()
    booked_by: Mapped[User | None] = relationship()


class PatientLink(db.Model):
    """The patient's own link to a booking (``/r/<secret>``), one per SMS that carried it. Only a SHA-256 of
    the secret is kept; a link is dead once its booking is cancelled or its slot has ended."""

    __tablename__ = "patient_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
