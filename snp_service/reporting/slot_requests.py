"""The slot requests' figures of a report: sent, accepted, expired, and the median minutes to an acceptance.

A request counts in the period of its creation (Europe/Paris days), for the CPTS it belongs to (its requester's).
A booking made through a request is an offered and filled slot like any other (``fill_rate``), with its channel.
"""
from __future__ import annotations

from datetime import date
from statistics import median

from sqlalchemy import and_, case, func, or_, select

from ..core.extensions import db
from ..core.timeutil import paris_day_bounds, utcnow
from ..models import SlotRequest, SlotRequestStatus

KEYS = ("requests_sent", "requests_accepted", "requests_expired", "median_minutes_to_accept")


def request_figures(cpts_ids: list[int], start: date, end: date) -> dict:
    lower, _ = paris_day_bounds(start)
    _, upper = paris_day_bounds(end)
    in_period = and_(SlotRequest.cpts_id.in_(cpts_ids), SlotRequest.created_at >= lower, SlotRequest.created_at < upper)
    expired = or_(SlotRequest.status == SlotRequestStatus.EXPIRED.value,
                  and_(SlotRequest.status == SlotRequestStatus.OPEN.value, SlotRequest.expires_at <= utcnow()))
    sent, accepted, lapsed = db.session.execute(select(
        func.count(SlotRequest.id),
        func.count(case((SlotRequest.status == SlotRequestStatus.ACCEPTED.value, SlotRequest.id))),
        func.count(case((expired, SlotRequest.id)))).where(in_period)).one()
    # Accepted requests are few (a handful a day): their delays are read, the median taken here on both databases.
    delays = [(closed - created).total_seconds() / 60 for created, closed in db.session.execute(
        select(SlotRequest.created_at, SlotRequest.closed_at)
        .where(in_period, SlotRequest.status == SlotRequestStatus.ACCEPTED.value))]
    return {"requests_sent": sent, "requests_accepted": accepted, "requests_expired": lapsed,
            "median_minutes_to_accept": round(median(delays), 1) if delays else None}
