"""What the GP's page shows: the next days' slots, today's bookings, the feed link.

Read-only queries gathered here so that neither the view nor the template
queries the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from . import calendar_feed
from .extensions import db
from .models import Booking, Practitioner, Slot
from .timeutil import PARIS, paris_day_bounds, utcnow

AGENDA_DAYS = 7
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass
class AgendaSlot:
    slot: Slot
    booking: Booking | None

    @property
    def started(self) -> bool:
        return self.slot.start_at <= utcnow()


@dataclass
class AgendaDay:
    day: date
    label: str
    slots: list[AgendaSlot] = field(default_factory=list)


@dataclass
class GpHome:
    days: list[AgendaDay]
    todays_bookings: list[AgendaSlot]
    feed_url: str


def gp_home(practitioner: Practitioner, now: datetime | None = None) -> GpHome:
    now = now or utcnow()
    today = now.astimezone(PARIS).date()
    days = agenda(practitioner.id, today, AGENDA_DAYS)
    todays = [item for item in days[0].slots if item.booking is not None]
    return GpHome(days, todays, calendar_feed.feed_url(practitioner.calendar_token))


def agenda(practitioner_id: int, first_day: date, count: int) -> list[AgendaDay]:
    """Non-withdrawn slots of ``count`` Paris days from ``first_day``, each with its active booking."""
    start = paris_day_bounds(first_day)[0]
    end = paris_day_bounds(first_day + timedelta(days=count - 1))[1]
    rows = db.session.execute(
        select(Slot, Booking)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == "booked"))
        .options(joinedload(Booking.patient))
        .where(Slot.practitioner_id == practitioner_id, Slot.status != "withdrawn",
               Slot.start_at >= start, Slot.start_at < end)
        .order_by(Slot.start_at))
    days = [AgendaDay(first_day + timedelta(days=n), day_label(first_day + timedelta(days=n), first_day))
            for n in range(count)]
    for slot, booking in rows:
        days[(slot.start_at.astimezone(PARIS).date() - first_day).days].slots.append(AgendaSlot(slot, booking))
    return days


def day_label(day: date, today: date) -> str:
    name = {0: "Aujourd'hui", 1: "Demain"}.get((day - today).days, WEEKDAYS[day.weekday()].capitalize())
    return f"{name} {day:%d/%m}"
