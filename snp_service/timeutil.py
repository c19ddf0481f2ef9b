"""Time rules: stored in UTC, days computed in Europe/Paris.

Local times typed by people (pages, series, imports) go through
``paris_to_utc`` which refuses the hour that does not exist on the spring
change and the hour that happens twice on the autumn change, instead of
silently shifting the slot.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import Invalid

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; naive values are refused (they are ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    return value.astimezone(UTC)


def paris_to_utc(local: datetime, field: str = "start") -> datetime:
    """Convert a Europe/Paris wall-clock time to UTC, rejecting DST gaps and folds."""
    local = local.replace(tzinfo=None)
    first = local.replace(tzinfo=PARIS, fold=0)
    second = local.replace(tzinfo=PARIS, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None)
        if round_trip != local:
            raise Invalid(
                f"{local:%d/%m/%Y %H:%M} n'existe pas à Paris (passage à l'heure d'été)",
                fields={field: ["nonexistent local time (daylight-saving gap)"]},
                code="nonexistent_local_time",
            )
        raise Invalid(
            f"{local:%d/%m/%Y %H:%M} est ambigu à Paris (passage à l'heure d'hiver) : précisez le décalage",
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
