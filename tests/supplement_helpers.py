"""Helpers shared by the supplement, indicator and retention tests: acts at Europe/Paris wall-clock times."""
from __future__ import annotations

from datetime import datetime, timedelta

from snp_service.core.timeutil import paris_to_utc


def paris(local: str) -> datetime:
    return paris_to_utc(datetime.fromisoformat(local))


def act(world, practitioner, local_start: str, *, booked_before: timedelta = timedelta(hours=2), channel="116117",
        outcome="honored", by_treating_doctor=False, has_treating_doctor="no"):
    """A booking of a 15-minute slot starting at ``local_start`` (Paris), booked ``booked_before`` earlier."""
    start = paris(local_start)
    booking = world.booking(world.slot(practitioner, start), channel=channel)
    booking.outcome = outcome
    booking.created_at = start - booked_before
    booking.by_treating_doctor = by_treating_doctor
    booking.has_treating_doctor = has_treating_doctor
    world.save_changes()
    return booking
