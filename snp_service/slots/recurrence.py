"""RRULEs (RFC 5545) of slot series and imported agendas: validated, then expanded under a hard bound.

dateutil walks a rule period by period from DTSTART and checks UNTIL only on the occurrences it
produces: a rule that never matches again (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) walks to the year
9999 (seconds of CPU), ``BYSETPOS=-366`` on a daily rule does the same, and ``INTERVAL=0`` never moves
at all (a worker frozen until gunicorn kills it). So no rule given to the service is expanded by
dateutil's loop: this module reads the part of RFC 5545 an agenda of consultations needs (DAILY, WEEKLY,
MONTHLY and YEARLY rules at DTSTART's time of day, with INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY,
BYDAY, BYSETPOS and WKST), refuses the rest and the parts that can never match, and expands the rule
with its own loop, which never passes the end it is given (the publishing horizon) and examines at most
``budget`` days whatever the rule says.

The occurrences are dateutil's, day for day (``tests/test_recurrence.py`` compares them on generated
rules), including its reading of a WEEKLY rule's first week (from DTSTART's day) and of a DATE UNTIL.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from functools import cache
from datetime import date, datetime, time, timedelta, tzinfo

from ..core.timeutil import UTC, day_in_bounds

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# The most days a period's set can hold: a BYSETPOS beyond it can never match.
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
# Longest each month can be (February: leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MAX_INTERVAL = 1000
MAX_COUNT = 999_999_999  # a larger COUNT is refused as unreadable; any COUNT is checked against the cap
# Days examined by one expansion unless the caller gives its own budget: a year and a half of a daily
# rule, a few milliseconds.
DEFAULT_BUDGET = 20_000
_SUPPORTED = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST"}
_FINER = {"BYHOUR", "BYMINUTE", "BYSECOND"}
_NUMBER = re.compile(r"[+-]?\d{1,3}")
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?")


class RuleError(ValueError):
    """A rule the service refuses: ``message`` in French for people, ``reason`` in English for ``fields``."""

    def __init__(self, message: str, reason: str, code: str = "invalid_rrule"):
        super().__init__(reason)
        self.message, self.reason, self.code = message, reason, code


class TooCostly(RuleError):
    def __init__(self, budget: int):
        super().__init__("Récurrences trop nombreuses ou trop anciennes pour être importées",
                         f"recurrence too costly to expand (more than {budget} days examined)")


@dataclass(frozen=True)
class Rule:
    freq: str
    interval: int = 1
    count: int | None = None
    until: date | datetime | None = None  # as written: a DATE, a floating time or a UTC time
    months: frozenset[int] = frozenset()
    month_days: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # BYDAY without ordinal: 0 = Monday
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()  # BYDAY with ordinal: (weekday, n)
    set_positions: tuple[int, ...] = ()
    week_start: int = 0

    def until_wall_clock(self, zone: tzinfo | None) -> datetime | None:
        """UNTIL as a wall-clock time of ``zone`` (None: floating times), the last moment it allows.

        A DATE UNTIL keeps its whole day (the series' last day, RFC 5545); a UTC UNTIL is read in the zone;
        a floating UNTIL beside a zoned start is read as UTC, as RFC 5545 requires it to be."""
        until = self.until
        if until is None:
            return None
        if not isinstance(until, datetime):
            return datetime.combine(until, time(23, 59, 59))
        if zone is None:
            return until.replace(tzinfo=None)
        return (until if until.tzinfo else until.replace(tzinfo=UTC)).astimezone(zone).replace(tzinfo=None)


@dataclass
class Expansion:
    """The occurrences found (wall-clock times, in order) and the days examined to find them (the walk's cost)."""

    starts: list[datetime] = field(default_factory=list)
    examined: int = 0


def parse(text: str, frequencies: tuple[str, ...] = FREQUENCIES) -> Rule:
    """The rule of an RRULE value (``FREQ=WEEKLY;BYDAY=TU;UNTIL=20270910``), or RuleError."""
    text = text.strip()
    if text[:6].upper() == "RRULE:":
        text = text[6:]
    parts: dict[str, str] = {}
    for part in filter(None, text.upper().split(";")):
        name, equals, value = part.partition("=")
        if not equals or not value:
            raise _unreadable(f"{part[:20]}: expected NAME=VALUE")
        if name in parts:
            raise _unreadable(f"{name} given twice")
        parts[name] = value
    frequency = parts.get("FREQ")
    if frequency not in frequencies or _FINER & parts.keys():
        allowed = ", ".join(frequencies)
        raise RuleError(f"Récurrence non prise en charge : {_french(frequencies)}, à l'heure du début",
                        f"FREQ must be one of {allowed}: nothing finer than daily (no BYHOUR/BYMINUTE/BYSECOND)")
    unsupported = sorted(parts.keys() - _SUPPORTED)
    if unsupported:
        raise RuleError(f"Récurrence non prise en charge ({', '.join(unsupported)})",
                        f"unsupported rule parts: {', '.join(unsupported)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("Donnez la fin de la série (UNTIL) ou le nombre d'occurrences (COUNT), pas les deux",
                        "exactly one of UNTIL or COUNT is allowed")
    rule = Rule(
        freq=frequency,
        interval=_integer(parts.get("INTERVAL", "1"), "INTERVAL", 1, MAX_INTERVAL),
        count=_integer(parts["COUNT"], "COUNT", 1, MAX_COUNT) if "COUNT" in parts else None,
        until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
        months=_numbers(parts.get("BYMONTH"), "BYMONTH", 1, 12, signed=False),
        month_days=_numbers(parts.get("BYMONTHDAY"), "BYMONTHDAY", 1, 31),
        set_positions=tuple(sorted(_numbers(parts.get("BYSETPOS"), "BYSETPOS", 1, 366))),
        week_start=_weekday(parts.get("WKST", "MO"), "WKST"),
        **_by_day(parts.get("BYDAY"), frequency),
    )
    _refuse_never_matching(rule)
    return rule


def expand(rule: Rule, start: datetime, end: datetime, *, limit: int, budget: int = DEFAULT_BUDGET,
           skip_to: datetime | None = None) -> Expansion:
    """The occurrences of ``rule`` from ``start`` (DTSTART, a naive wall-clock time) to ``end`` included.

    Stops at ``end``, at UNTIL (give ``end`` no later than ``rule.until_wall_clock``), after COUNT
    occurrences or after ``limit`` of them, whichever comes first. Without COUNT, the periods ending before
    ``skip_to`` are jumped, not walked (an agenda's rule begun years ago costs its window only). Raises
    TooCostly once more than ``budget`` days have been examined: every step moves at least one day forward,
    so the walk is bounded by ``end`` and by ``budget``, never by the rule.
    """
    found = Expansion()
    keep = _predicate(rule, _defaults(rule, start))
    at, first_day, last_day = start.time(), start.date(), end.date()
    counted = 0
    index = _first_period(rule, start, skip_to) if skip_to is not None and rule.count is None else 0
    while True:
        days = _period(rule, first_day, index)
        if days[0] > last_day:
            return found
        found.examined += len(days)
        if found.examined > budget:
            raise TooCostly(budget)
        for day in _select(rule, keep, days):
            moment = datetime.combine(day, at)
            if moment > end:
                return found
            if moment < start:
                continue
            counted += 1
            if skip_to is None or moment >= skip_to:
                found.starts.append(moment)
            if counted == rule.count or len(found.starts) >= limit:
                return found
        index += 1


# --- reading -----------------------------------------------------------------------------------


def _unreadable(reason: str) -> RuleError:
    return RuleError("Règle de récurrence illisible (RFC 5545)", f"invalid RRULE: {reason}")


def _french(frequencies: tuple[str, ...]) -> str:
    names = {"DAILY": "quotidienne", "WEEKLY": "hebdomadaire", "MONTHLY": "mensuelle", "YEARLY": "annuelle"}
    words = [names[f] for f in frequencies]
    return ", ".join(words[:-1]) + " ou " + words[-1] if len(words) > 1 else words[0]


def _integer(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        raise RuleError(f"{name} doit être un entier de {low} à {high}", f"{name} must be an integer from {low} to {high}")
    return int(text)


def _numbers(text: str | None, name: str, low: int, high: int, signed: bool = True) -> frozenset[int]:
    if text is None:
        return frozenset()
    values = set()
    for item in text.split(","):
        if not _NUMBER.fullmatch(item) or (not signed and item[0] in "+-") or not low <= abs(int(item)) <= high:
            span = f"±{low} à ±{high}" if signed else f"{low} à {high}"
            raise RuleError(f"{name} : valeurs de {span}", f"{name} values must be {'±' if signed else ''}{low}..{high}")
        values.add(int(item))
    return frozenset(values)


def _weekday(text: str, name: str) -> int:
    if text not in WEEKDAYS:
        raise _unreadable(f"{name}: expected one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(text)


def _by_day(text: str | None, frequency: str) -> dict:
    if text is None:
        return {}
    plain, nth = set(), set()
    limit = 5 if frequency == "MONTHLY" else 53
    for item in text.split(","):
        match = _BYDAY.fullmatch(item)
        if not match:
            raise _unreadable(f"BYDAY: {item[:10]!r}")
        weekday = WEEKDAYS.index(match[2])
        if match[1] is None:
            plain.add(weekday)
            continue
        n = int(match[1])
        if frequency not in ("MONTHLY", "YEARLY") or not 1 <= abs(n) <= limit:
            raise RuleError("BYDAY : un rang (1MO, -1FR) seulement en mensuel (±1 à ±5) ou annuel (±1 à ±53)",
                            "BYDAY ordinals only with MONTHLY (±1..5) or YEARLY (±1..53)")
        nth.add((weekday, n))
    if plain and nth:
        raise RuleError("BYDAY : jours avec et sans rang mélangés (non pris en charge)",
                        "BYDAY mixing days with and without an ordinal is not supported")
    return {"weekdays": frozenset(plain), "nth_weekdays": frozenset(nth)}


def _until(text: str) -> date | datetime:
    match = _UNTIL.fullmatch(text)
    try:
        if not match:
            raise ValueError(text)
        year, month, day, hour, minute, second, zulu = match.groups()
        value = date(int(year), int(month), int(day)) if hour is None else datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC if zulu else None)
    except ValueError:
        raise _unreadable("UNTIL: expected YYYYMMDD or YYYYMMDDTHHMMSS[Z]") from None
    if not day_in_bounds(value):
        raise RuleError("UNTIL hors limites", "UNTIL out of range")
    return value


def _refuse_never_matching(rule: Rule) -> None:
    """Refuse the BY parts no day can ever satisfy (dateutil would walk to the year 9999 looking for one)."""
    if rule.freq == "WEEKLY" and rule.month_days:
        raise RuleError("BYMONTHDAY ne s'emploie pas avec une récurrence hebdomadaire (RFC 5545)",
                        "BYMONTHDAY is not allowed with FREQ=WEEKLY")
    months = rule.months or frozenset(range(1, 13))
    if rule.month_days and not any(abs(day) <= _MONTH_DAYS[month - 1] for month in months for day in rule.month_days):
        raise RuleError("Ces jours n'existent dans aucun des mois choisis (BYMONTH, BYMONTHDAY)",
                        "BYMONTHDAY never falls in BYMONTH: the rule can never match")
    largest = _largest_set(rule)
    if rule.set_positions and min(abs(position) for position in rule.set_positions) > largest:
        raise RuleError(f"BYSETPOS au-delà des {largest} jour(s) possibles par période : aucune occurrence",
                        f"BYSETPOS beyond the {largest} day(s) a {rule.freq} period can hold: never matches")


def _largest_set(rule: Rule) -> int:
    """The most days one period of the rule can select (before BYSETPOS)."""
    if rule.freq == "DAILY":
        return 1
    if rule.freq == "WEEKLY":
        return len(rule.weekdays) or 1
    per_month = min(len(rule.month_days) if rule.month_days else 31,
                    5 * len(rule.weekdays) if rule.weekdays else 31,
                    len(rule.nth_weekdays) if rule.nth_weekdays and rule.freq == "MONTHLY" else 31)
    if not (rule.month_days or rule.weekdays or rule.nth_weekdays):
        per_month = 1  # the start's own day of the month
    if rule.freq == "MONTHLY":
        return per_month
    months = len(rule.months) or (12 if rule.month_days or rule.weekdays or rule.nth_weekdays else 1)
    return min(_PERIOD_DAYS["YEARLY"], months * per_month)


# --- expanding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Defaults:
    """What a rule without day parts takes from DTSTART (RFC 5545, as dateutil reads it)."""

    months: frozenset[int]
    month_days: frozenset[int]
    weekdays: frozenset[int]


def _defaults(rule: Rule, start: datetime) -> _Defaults:
    months, month_days, weekdays = rule.months, rule.month_days, rule.weekdays
    if not (rule.month_days or rule.weekdays or rule.nth_weekdays):
        if rule.freq == "YEARLY":
            months = months or frozenset({start.month})
            month_days = frozenset({start.day})
        elif rule.freq == "MONTHLY":
            month_days = frozenset({start.day})
        elif rule.freq == "WEEKLY":
            weekdays = frozenset({start.weekday()})
    return _Defaults(months, month_days, weekdays)


def _first_period(rule: Rule, start: datetime, skip_to: datetime) -> int:
    """The index of the last period that may still hold ``skip_to`` or a later day (periods before it end earlier)."""
    gap = (skip_to.date() - start.date()).days
    if gap <= 0:
        return 0
    if rule.freq == "DAILY":
        return gap // rule.interval
    if rule.freq == "WEEKLY":
        return max(0, gap // (7 * rule.interval) - 1)
    if rule.freq == "MONTHLY":
        months = (skip_to.year - start.year) * 12 + skip_to.month - start.month
        return max(0, months // rule.interval - 1)
    return max(0, (skip_to.year - start.year) // rule.interval - 1)


def _period(rule: Rule, first: date, index: int) -> list[date]:
    """The days of the rule's ``index``-th period (from DTSTART's; a WEEKLY rule's first week starts on DTSTART)."""
    step = index * rule.interval
    if rule.freq == "DAILY":
        return [first + timedelta(days=step)]
    if rule.freq == "WEEKLY":
        week = first - timedelta(days=(first.weekday() - rule.week_start) % 7)
        begin = max(first, week + timedelta(weeks=step))
        end = week + timedelta(weeks=step + 1)
        return [begin + timedelta(days=n) for n in range((end - begin).days)]
    if rule.freq == "MONTHLY":
        year, month = divmod(first.month - 1 + step, 12)
        year += first.year
        return [date(year, month + 1, day) for day in range(1, _month_length(year, month + 1) + 1)]
    year = first.year + step
    begin = date(year, 1, 1)
    return [begin + timedelta(days=n) for n in range((date(year + 1, 1, 1) - begin).days)]


@cache
def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _select(rule: Rule, keep, days: list[date]) -> list[date]:
    """The period's days the BY parts keep (``keep``: None keeps them all), then BYSETPOS."""
    kept = days if keep is None else [day for day in days if keep(day)]
    if not rule.set_positions:
        return kept
    chosen = {kept[position - 1 if position > 0 else position] for position in rule.set_positions
              if -len(kept) <= (position - 1 if position > 0 else position) < len(kept)}
    return sorted(chosen)


def _predicate(rule: Rule, defaults: _Defaults):
    """Whether a day satisfies every BY part of the rule, as one function of the parts given (None: no part)."""
    checks = []
    if defaults.months:
        checks.append(lambda day, months=defaults.months: day.month in months)
    if defaults.weekdays:
        checks.append(lambda day, weekdays=defaults.weekdays: day.weekday() in weekdays)
    if rule.nth_weekdays:
        checks.append(lambda day: _nth_weekday_matches(rule, day))
    if defaults.month_days:
        checks.append(lambda day, wanted=defaults.month_days: day.day in wanted
                      or day.day - _month_length(day.year, day.month) - 1 in wanted)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda day: all(check(day) for check in checks)


def _nth_weekday_matches(rule: Rule, day: date) -> bool:
    """``day`` is the n-th (or n-th last) of its weekday in its month (MONTHLY, or YEARLY with BYMONTH)
    or in its year (YEARLY without BYMONTH)."""
    if rule.freq == "YEARLY" and not rule.months:
        position, length = day.timetuple().tm_yday, 366 if calendar.isleap(day.year) else 365
    else:
        position, length = day.day, _month_length(day.year, day.month)
    first, last = (position - 1) // 7 + 1, -((length - position) // 7 + 1)
    return (day.weekday(), first) in rule.nth_weekdays or (day.weekday(), last) in rule.nth_weekdays
