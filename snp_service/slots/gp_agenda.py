"""What the GP's page shows: every coming slot week by week, today's bookings, the feed link.

Read-only queries gathered here so that neither the view nor the template
queries the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..core.extensions import db
from ..core.timeutil import PARIS, paris_day_bounds, utcnow
from ..formatting import WEEKDAYS
from ..models import Booking, BookingStatus, Practitioner, Role, Slot, SlotStatus
from . import calendar_feed

# A season of slots at most (a publish is capped the same way): beyond it the page says so.
MAX_SHOWN = 2000


@dataclass
class AgendaSlot:
    slot: Slot
    booking: Booking | None
    started: bool = False
    # The outcome may be recorded now, or the one recorded may still be corrected (policy.outcome_correctable).
    outcome_open: bool = False


@dataclass
class AgendaDay:
    day: date
    label: str
    slots: list[AgendaSlot] = field(default_factory=list)


@dataclass
class AgendaWeek:
    monday: date
    label: str
    days: list[AgendaDay] = field(default_factory=list)

    @property
    def iso_week(self) -> str:
        return f"S{self.monday.isocalendar()[1]}"

    def count(self, status: str) -> int:
        return sum(item.slot.status == status for day in self.days for item in day.slots)

    @property
    def total(self) -> int:
        return sum(len(day.slots) for day in self.days)


@dataclass
class GpHome:
    weeks: list[AgendaWeek]
    todays_bookings: list[AgendaSlot]
    feed_url: str
    truncated: bool = False


def gp_home(practitioner: Practitioner, now: datetime | None = None) -> GpHome:
    now = now or utcnow()
    today = now.astimezone(PARIS).date()
    items, truncated = upcoming(practitioner.id, today)
    for item in items:
        item.started = item.slot.start_at <= now
        # The page is the GP's own: open to the corrections a GP may make.
        item.outcome_open = bool(item.booking and item.started and (
            item.booking.outcome is None or policy.outcome_correctable(Role.GP, item.booking, now)))
    weeks = by_week(items, today)
    todays = [item for item in items if item.booking is not None and item.slot.start_at.astimezone(PARIS).date() == today]
    return GpHome(weeks, todays, calendar_feed.feed_url(practitioner.calendar_token), truncated)


def upcoming(practitioner_id: int, first_day: date) -> tuple[list[AgendaSlot], bool]:
    """Non-withdrawn slots from the start of ``first_day`` (Paris) on, each with its active booking."""
    rows = db.session.execute(
        select(Slot, Booking)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == BookingStatus.BOOKED))
        .options(joinedload(Booking.patient))
        .where(Slot.practitioner_id == practitioner_id, Slot.status != SlotStatus.WITHDRAWN,
               Slot.start_at >= paris_day_bounds(first_day)[0])
        .order_by(Slot.start_at).limit(MAX_SHOWN + 1)).all()
    return [AgendaSlot(slot, booking) for slot, booking in rows[:MAX_SHOWN]], len(rows) > MAX_SHOWN


def by_week(items: list[AgendaSlot], today: date) -> list[AgendaWeek]:
    """Slots grouped by Monday-to-Sunday week, then by day; this week always comes first, even empty."""
    this_monday = today - timedelta(days=today.weekday())
    weeks = {this_monday: AgendaWeek(this_monday, week_label(this_monday, this_monday))}
    for item in items:
        day = item.slot.start_at.astimezone(PARIS).date()
        monday = day - timedelta(days=day.weekday())
        week = weeks.setdefault(monday, AgendaWeek(monday, week_label(monday, this_monday)))
        if not week.days or week.days[-1].day != day:
            week.days.append(AgendaDay(day, day_label(day, today)))
        week.days[-1].slots.append(item)
    return sorted(weeks.values(), key=lambda week: week.monday)


def week_label(monday: date, this_monday: date) -> str:
    sunday = monday + timedelta(days=6)
    span = f"du {monday:%d/%m} au {sunday:%d/%m}"
    name = {0: "Cette semaine", 1: "Semaine prochaine"}.get((monday - this_monday).days // 7, "Semaine")
    return f"{name} ({span})" if name != "Semaine" else f"Semaine {span}"


def day_label(day: date, today: date) -> str:
    name = {0: "Aujourd'hui", 1: "Demain"}.get((day - today).days, WEEKDAYS[day.weekday()].capitalize())
    return f"{name} {day:%d/%m}"
