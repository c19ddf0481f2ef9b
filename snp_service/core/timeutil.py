"""Time rules: stored in UTC, days computed in Europe/Paris.

Local times typed by people (pages, series, imports) go through
``paris_to_utc`` which refuses the hour that does not exist on the spring
change and the hour that happens twice on the autumn change, instead of
silently shifting the slot.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from .errors import Invalid

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")

# The days the service reasons about, for every date it is given: seasons, reports, statements, indicators'
# periods, searches, publishing, imports. Python's calendar stops at the years 1 and 9999, and a day near
# either end overflows once it is converted to UTC or widened to its week or month (a 500, not a 422);
# no CPTS season, report or slot is anywhere near 1900 or 2199.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
BOUNDS_TEXT = f"{FIRST_DAY.year}-{LAST_DAY.year}"
EARLIEST = datetime.combine(FIRST_DAY, time(0), UTC)
LATEST = datetime.combine(LAST_DAY + timedelta(days=1), time(0), UTC)
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def day_in_bounds(day: date) -> bool:
    """Whether ``day`` (a date, or a datetime's date) lies within ``FIRST_DAY``..``LAST_DAY``."""
    day = day.date() if isinstance(day, datetime) else day
    return FIRST_DAY <= day <= LAST_DAY


def instant_in_bounds(moment: datetime) -> bool:
    """Whether an aware instant lies within the bounds (its UTC day; an overflow is out of bounds)."""
    try:
        return EARLIEST <= moment.astimezone(UTC) < LATEST
    except OverflowError:
        return False


def month_in_bounds(text: str) -> bool:
    """Whether ``text`` is a month ``YYYY-MM`` within the bounds (a statement's month, a page's ``?month=``)."""
    match = _MONTH.fullmatch(text or "")
    return match is not None and FIRST_DAY.year <= int(match[1]) <= LAST_DAY.year


def check_days(**days: date | None) -> None:
    """A 422 naming each field whose day lies outside the bounds (``None`` is no day)."""
    outside = [name for name, day in days.items() if day is not None and not day_in_bounds(day)]
    if outside:
        raise Invalid(f"Date hors limites ({BOUNDS_TEXT})", code="out_of_range",
                      fields={name: [f"between {FIRST_DAY} and {LAST_DAY}"] for name in outside})


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; naive values are refused (they are ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    return value.astimezone(UTC)


def paris_to_utc(local: datetime, field: str = "start") -> datetime:
    """Convert a Europe/Paris wall-clock time to UTC, rejecting DST gaps and folds."""
    return zoned_to_utc(local.replace(tzinfo=None), PARIS, field)


def zoned_to_utc(local: datetime, zone: tzinfo | None = None, field: str = "start") -> datetime:
    """Convert a wall-clock time of ``zone`` (default: its own tzinfo) to UTC, rejecting DST gaps and folds.

    Calendar files carry times such as ``TZID=Europe/Paris:20270328T023000``: an
    aware datetime that Python would silently shift by an hour.
    """
    zone = zone or local.tzinfo
    wall = local.replace(tzinfo=None)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    # A time in the spring gap does not survive the round trip through UTC (whatever the tzinfo class).
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise Invalid(
            f"{wall:%d/%m/%Y %H:%M} n'existe pas (passage à l'heure d'été)",
            fields={field: ["nonexistent local time (daylight-saving gap)"]},
            code="nonexistent_local_time",
        )
    if first.utcoffset() != second.utcoffset():
        raise Invalid(
            f"{wall:%d/%m/%Y %H:%M} est ambigu (passage à l'heure d'hiver) : précisez le décalage",
            fields={field: ["ambiguous local time (daylight-saving fold)"]},
            code="ambiguous_local_time",
        )
    return first.astimezone(UTC)


def to_paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)


def paris_day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC instants of the first and last moment of a Paris day (23, 24 or 25 hours long)."""
    start = datetime.combine(day, time(0), PARIS).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), PARIS).astimezone(UTC)
    return start, end


def paris_today() -> date:
    return utcnow().astimezone(PARIS).date()


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])
