"""The SMS outbox: one row per message, written in the transaction of the change that causes it.

A row goes ``pending`` -> ``sending`` (claimed by a sender, with a lease) ->
``queued`` (the provider accepted it and gave its SID) -> ``sent`` ->
``delivered`` | ``undelivered``, as the provider's status callbacks say.
``failed`` is final (permanent error, or attempts exhausted); ``skipped``
means the message had no point any more (a reminder for a cancelled booking).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .bookings import Booking

MESSAGE_KINDS = (
    "patient_confirmation", "patient_reminder", "patient_cancellation", "patient_move",
    "gp_new_booking", "gp_cancellation", "gp_move", "gp_slot_request",
)
RECIPIENTS = ("patient", "practitioner")
MESSAGE_STATUSES = ("pending", "sending", "queued", "sent", "delivered", "undelivered", "failed", "skipped")
# Statuses a coordinator may send again ("renvoyer").
RESENDABLE_STATUSES = ("failed", "undelivered")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(f"kind IN {MESSAGE_KINDS}", name="kind_known"),
        CheckConstraint(f"recipient IN {RECIPIENTS}", name="recipient_known"),
        CheckConstraint(f"status IN {MESSAGE_STATUSES}", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        # One message of a kind per booking: a reminder job run twice, or an
        # event replayed, cannot text the patient twice.
        Index("uq_outbox_message_booking_kind", "booking_id", "kind", unique=True),
        # The sender's scan: due pending rows, expired sending leases.
        Index("ix_outbox_message_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(20))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    # The slot's practitioner: scopes the coordinator's view to their CPTS.
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id", ondelete="SET NULL"), index=True)
    # Patient phone and text are personal data: nullable so that the retention purge can erase them.
    to_phone: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # An error code ("http_500", "twilio_21211", "network"), never the provider's text (it quotes the number).
    last_error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking | None] = relationship()

    def __repr__(self) -> str:  # never the number or the text
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
