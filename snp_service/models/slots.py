"""Slots: the SNP consultation times practitioners publish.

No overlapping non-withdrawn slots of one practitioner: the database holds it
itself (an exclusion constraint on PostgreSQL, triggers on SQLite); the
publishing service also checks first (inside ``BEGIN IMMEDIATE`` on SQLite) to
name the clashing slot.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, String, event, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow
from .practitioners import Practitioner



class SlotMode(Codes):
    """Where the consultation happens."""

    OFFICE = "office"
    TELECONSULTATION = "teleconsultation"
    HOME_VISIT = "home_visit"


class SlotStatus(Codes):
    """``free`` until booked; ``withdrawn`` by its practitioner (still offered once, for the reports); ``expired``
    once started unbooked, or when its booking is cancelled after it started."""

    FREE = "free"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Slot(db.Model):
    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        CheckConstraint(SlotMode.sql_in("mode"), name="mode_known"),
        CheckConstraint(SlotStatus.sql_in("status"), name="status_known"),
        # The regulator's search: free slots in a time window.
        Index("ix_slot_status_start", "status", "start_at"),
        Index("ix_slot_practitioner_start", "practitioner_id", "start_at"),
        # The search's probe: one practitioner's free slots in start order. Covering on PostgreSQL, so
        # that the probe never reads the table (the search names 'free' literally to use it).
        Index("ix_slot_free_practitioner_start", "practitioner_id", "start_at",
              postgresql_include=["id", "end_at", "mode"],
              postgresql_where=text(f"status = '{SlotStatus.FREE}'"), sqlite_where=text(f"status = '{SlotStatus.FREE}'")),
        ExcludeConstraint(
            ("practitioner_id", "="),
            (text("tstzrange(start_at, end_at)"), "&&"),
            name="ex_slot_no_overlap",
            using="gist",
            where=text(f"status != '{SlotStatus.WITHDRAWN}'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(20), default=SlotMode.OFFICE.value)
    status: Mapped[str] = mapped_column(String(20), default=SlotStatus.FREE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every change of the row (booked, withdrawn, freed again): the open publication's ``_since`` reads it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    practitioner: Mapped[Practitioner] = relationship()


# SQLite has no exclusion constraints: these triggers hold the same rule, so the
# database refuses an overlapping slot whatever code path writes it.
#
# One index probe per row, not a scan: the other non-withdrawn slots of the practitioner never
# overlap one another (this very rule), so sorted by start they are sorted by end too, and the
# only one that can reach past NEW's start is the last one starting before NEW's end. Scanning
# every earlier slot instead made each insert cost the practitioner's whole past: a history
# import of n rows was quadratic (issue 28, finding 9).
_SQLITE_OVERLAP_CHECK = """
CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON slot
WHEN NEW.status != '{withdrawn}' AND EXISTS (
    SELECT 1 FROM (
        SELECT other.end_at FROM slot AS other
        WHERE other.practitioner_id = NEW.practitioner_id AND other.status != '{withdrawn}'
          AND other.id IS NOT NEW.id AND other.start_at < NEW.end_at
        ORDER BY other.start_at DESC LIMIT 1) AS latest
    WHERE latest.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'ex_slot_no_overlap'); END
"""
SQLITE_OVERLAP_TRIGGERS = (
    _SQLITE_OVERLAP_CHECK.format(name="tr_slot_no_overlap_insert", event="INSERT", withdrawn=SlotStatus.WITHDRAWN),
    _SQLITE_OVERLAP_CHECK.format(name="tr_slot_no_overlap_update", event="UPDATE OF start_at, end_at, status, practitioner_id",
                                 withdrawn=SlotStatus.WITHDRAWN),
)
for _ddl in SQLITE_OVERLAP_TRIGGERS:
    event.listen(Slot.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))


@event.listens_for(db.metadata, "before_create")
def _postgres_extensions(target, connection, **kw):
    # The slot exclusion constraint mixes = on an integer with && on a range.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
