"""Slot requests ("demandes de créneau"): when nothing fits, a regulator asks the nearby practitioners who take
requests, and the first to accept creates a slot and its booking for the request's patient.

Exactly one acceptance wins, by the database: the accept is a guarded ``UPDATE ... WHERE status = 'open'``
whose row count decides, and ``uq_slot_request_booking`` holds one booking per request whatever path writes it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .bookings import Channel
from .patients import Patient
from .practitioners import Profession
from .slots import SlotMode


class SlotRequestStatus(Codes):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SlotRequest(db.Model):
    __tablename__ = "slot_request"
    __table_args__ = (
        CheckConstraint(SlotRequestStatus.sql_in("status"), name="status_known"),
        CheckConstraint(Profession.sql_in("profession"), name="profession_known"),
        CheckConstraint(SlotMode.sql_in("mode"), name="mode_known"),
        CheckConstraint(Channel.sql_in("channel"), name="channel_known"),
        CheckConstraint("not_after > not_before", name="window_ordered"),
        CheckConstraint("radius_km > 0 AND radius_km <= 100", name="radius_bounded"),
        # A booking only for an accepted request (the accept claims the request first, then books).
        CheckConstraint("booking_id IS NULL OR status = 'accepted'", name="booking_only_if_accepted"),
        Index("uq_slot_request_booking", "booking_id", unique=True),
        # The expiry job's scan and the listings of a scope.
        Index("ix_slot_request_status_expires", "status", "expires_at"),
        Index("ix_slot_request_cpts_created", "cpts_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=SlotRequestStatus.OPEN.value)
    # The requester's CPTS (their own first): whose request it is, and the CPTS its booking is made for.
    cpts_id: Mapped[int] = mapped_column(ForeignKey("cpts.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    notify_patient: Mapped[bool] = mapped_column(Boolean, default=True)
    profession: Mapped[str] = mapped_column(String(20), default=Profession.GP.value)
    mode: Mapped[str] = mapped_column(String(20), default=SlotMode.OFFICE.value)
    commune_insee: Mapped[str] = mapped_column(String(5))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id", ondelete="SET NULL"))

    patient: Mapped[Patient | None] = relationship()
    recipients: Mapped[list[SlotRequestRecipient]] = relationship(
        back_populates="request", order_by="SlotRequestRecipient.practitioner_id")

    def __repr__(self) -> str:
        return f"<SlotRequest {self.id} {self.status}>"


class SlotRequestRecipient(db.Model):
    """A practitioner a request was sent to, and when they first opened it."""

    __tablename__ = "slot_request_recipient"

    request_id: Mapped[int] = mapped_column(ForeignKey("slot_request.id", ondelete="CASCADE"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="CASCADE"), primary_key=True,
                                                 index=True)
    distance_km: Mapped[float | None] = mapped_column(Float)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[SlotRequest] = relationship(back_populates="recipients")
