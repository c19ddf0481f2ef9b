"""Slot lifecycle housekeeping done by the background jobs."""
from __future__ import annotations

from sqlalchemy import update

from .. import audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Slot, SlotStatus


def expire_free_slots(now=None) -> int:
    """Free slots whose start has passed become ``expired``; returns how many."""
    now = now or utcnow()
    with write_transaction():
        result = db.session.execute(
            update(Slot).where(Slot.status == SlotStatus.FREE, Slot.start_at <= now).values(status=SlotStatus.EXPIRED.value)
        )
        if result.rowcount:
            # One summary event per run: a row per slot would bury the trail.
            audit.record("job:expire_slots", "slot.expire", "slot", after={"expired": result.rowcount, "before": now.isoformat()})
    return result.rowcount
