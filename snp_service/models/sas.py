"""What the SAS platform and we know of each other: regulator identifiers, appointments sent, their outbox.

- ``SasRegulatorIdentifier``: the identifiers the platform gave a regulator account (INT_R02): its
  technical id (``urn:oid:1.2.250.1.213.3.6``) and, once known, the national one. An account keeps
  every identifier it was known by, so a later call by either finds it.
- ``SasAppointment``: one appointment as the platform knows it (INT_R03). Its identifier outlives a
  move (which makes a new booking here): the platform sees one appointment whose times changed.
- ``SasPush``: one call to make to the platform, written in the transaction of the booking change
  (``pending`` -> ``sending`` (claimed, with a lease) -> ``sent``; ``failed`` is final). The calls of
  one appointment leave in the order they were written.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .accounts import User
from .bookings import Booking

SAS_PUSH_EVENTS = ("booked", "cancelled", "honored", "no_show", "moved")
SAS_PUSH_STATUSES = ("pending", "sending", "sent", "failed")
SAS_PUSH_METHODS = ("POST", "PUT")


class SasRegulatorIdentifier(db.Model):
    __tablename__ = "sas_regulator_identifier"
    __table_args__ = (UniqueConstraint("system", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(100))
    # IDNPS (national id) or INTRN (SAS technical id), as the platform typed it.
    type_code: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class SasAppointment(db.Model):
    __tablename__ = "sas_appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(36), unique=True)
    # The booking the appointment is now (a move points it at the new one).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), unique=True)
    # The slot's practitioner: scopes the coordinator's view to their CPTS.
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking | None] = relationship()


class SasPush(db.Model):
    __tablename__ = "sas_push"
    __table_args__ = (
        CheckConstraint(f"event IN {SAS_PUSH_EVENTS}", name="event_known"),
        CheckConstraint(f"status IN {SAS_PUSH_STATUSES}", name="status_known"),
        CheckConstraint(f"method IN {SAS_PUSH_METHODS}", name="method_known"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        # The sender's scan: due pending rows, expired sending leases.
        Index("ix_sas_push_status_due", "status", "next_attempt_at"),
        # "Is an earlier call of this appointment still on its way?"
        Index("ix_sas_push_appointment_id", "appointment_id", "id"),
        Index("ix_sas_push_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("sas_appointment.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(4))
    # The FrAppointmentSAS as it was when the change happened: no patient data in it.
    body: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "http_503", "network", "timeout", "tls": never the platform's text.
    last_error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[SasAppointment] = relationship()

    def __repr__(self) -> str:
        return f"<SasPush {self.id} {self.event} {self.status}>"
