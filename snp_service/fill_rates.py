"""Fill-rate snapshots (SPEC section 3): offered and filled slots per CPTS, practitioner and Paris day.

Offered: a slot starting that day that was not withdrawn. Filled: an offered slot
holding an active (not cancelled) booking. A practitioner counts in every CPTS
they belong to.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, insert, select

from . import audit
from .database import write_transaction
from .extensions import db
from .models import Booking, FillRateSnapshot, Slot, practitioner_cpts
from .timeutil import paris_day_bounds, paris_today, utcnow


def snapshot_recent_days(actor: str = "job:snapshot_fill_rates", today: date | None = None) -> dict:
    """Recompute the last ``FILL_RATE_RECOMPUTE_DAYS`` Paris days up to today."""
    today = today or paris_today()
    first = today - timedelta(days=current_app.config["FILL_RATE_RECOMPUTE_DAYS"] - 1)
    return snapshot_days(actor, first, today)


def snapshot_days(actor: str, first: date, last: date) -> dict:
    """Replace the snapshots of the days ``first``..``last`` (inclusive): running twice gives the same rows."""
    computed_at = utcnow()
    with write_transaction():
        db.session.execute(delete(FillRateSnapshot).where(FillRateSnapshot.day.between(first, last)))
        rows = [row | {"computed_at": computed_at} for day in _days(first, last) for row in _day_counts(day)]
        if rows:
            db.session.execute(insert(FillRateSnapshot), rows)
        totals = {"offered": sum(r["offered"] for r in rows), "filled": sum(r["filled"] for r in rows)}
        audit.record(actor, "fill_rate.snapshot", FillRateSnapshot.__tablename__,
                     after={"from": first.isoformat(), "to": last.isoformat(), "rows": len(rows)} | totals)
    return {"days": (last - first).days + 1, "rows": len(rows)} | totals


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_counts(day: date) -> list[dict]:
    # One query per Paris day: the day's UTC bounds move with daylight saving time,
    # which no portable SQL expression of SQLite and PostgreSQL gets right.
    start, end = paris_day_bounds(day)
    active_booking = and_(Booking.slot_id == Slot.id, Booking.status == "booked")
    query = (
        select(practitioner_cpts.c.cpts_id, Slot.practitioner_id, func.count(Slot.id), func.count(Booking.id))
        .select_from(Slot)
        .join(practitioner_cpts, practitioner_cpts.c.practitioner_id == Slot.practitioner_id)
        .outerjoin(Booking, active_booking)
        .where(Slot.status != "withdrawn", Slot.start_at >= start, Slot.start_at < end)
        .group_by(practitioner_cpts.c.cpts_id, Slot.practitioner_id)
    )
    return [{"cpts_id": cpts_id, "practitioner_id": practitioner_id, "day": day, "offered": offered, "filled": filled}
            for cpts_id, practitioner_id, offered, filled in db.session.execute(query)]


def daily(cpts_ids: list[int], first: date, last: date) -> list[dict]:
    """Snapshotted ``{day, offered, filled, fill_rate}`` of the CPTS, one entry per day that had offered slots."""
    # A practitioner in two of these CPTS has a row in each: count their slots once.
    per_practitioner = (
        select(FillRateSnapshot.day, FillRateSnapshot.practitioner_id, FillRateSnapshot.offered, FillRateSnapshot.filled)
        .where(FillRateSnapshot.cpts_id.in_(cpts_ids), FillRateSnapshot.day.between(first, last))
        .distinct().subquery()
    )
    query = (
        select(per_practitioner.c.day, func.sum(per_practitioner.c.offered), func.sum(per_practitioner.c.filled))
        .group_by(per_practitioner.c.day).order_by(per_practitioner.c.day)
    )
    return [{"day": day, "offered": int(offered), "filled": int(filled), "fill_rate": filled / offered if offered else None}
            for day, offered, filled in db.session.execute(query)]
