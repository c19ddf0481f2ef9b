""".ics import: the events of the agenda a GP already uses become SNP slots.

Each VEVENT (its RRULE expanded by ``recurrence`` under a hard bound, then its RDATE,
EXDATE and RECURRENCE-ID overrides applied by recurring-ical-events within the publishing
horizon) is split into slots of the chosen duration.
An occurrence that cannot become a slot (all-day, past, overlapping, in a DST
gap...) is skipped with its reason; a file that is not a calendar, or whose
recurrences would cost too much to expand, is refused whole with a 422.
Skipped entries name the event by UID and start only: a GP's agenda summary
may hold a patient's name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import icalendar
import recurring_ical_events

from ..core.database import write_transaction
from ..core.errors import Invalid
from ..core.timeutil import paris_to_utc, to_paris, utcnow, zoned_to_utc
from ..models import Practitioner, Slot, SlotMode, User
from . import recurrence
from .publishing import Interval, Rules, add_slots, clashes, existing_slots, problem_with

MAX_ICS_BYTES = 1_000_000
MAX_EVENTS = 2_000
# The days ``recurrence`` may examine to expand every rule of one file (a few hundred milliseconds): a
# rule without COUNT costs its window only, however old; one with COUNT is walked from its DTSTART.
MAX_EXPANSION_DAYS = 50_000
# Occurrences inside the publishing window, estimated from each rule before any is expanded, then
# counted: each one becomes at least a slot or a skipped entry, so this bounds the import's work and its
# report.
MAX_OCCURRENCES = 20_000
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 28, "YEARLY": 365}

SKIP_MESSAGES = {
    "all_day": "Événement sur la journée entière : ignoré",
    "cancelled": "Événement annulé : ignoré",
    "too_short": "Événement trop court pour un créneau",
    "past": "Déjà passé",
    "beyond_horizon": "Au-delà de l'horizon de publication",
    "overlap": "Chevauche un créneau existant",
    "nonexistent_local_time": "Heure inexistante à Paris (passage à l'heure d'été)",
    "ambiguous_local_time": "Heure ambiguë à Paris (passage à l'heure d'hiver)",
}


@dataclass
class ImportResult:
    slots: list[Slot] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.slots)

    def skip(self, uid: str | None, start: datetime | date | None, reason: str, message: str | None = None) -> None:
        when = to_paris(start).isoformat() if isinstance(start, datetime) and start.tzinfo else (
            start.isoformat() if start else None)
        self.skipped.append({"uid": uid, "start": when, "reason": reason, "message": message or SKIP_MESSAGES[reason]})


@dataclass(frozen=True)
class Piece:
    interval: Interval
    uid: str | None


def import_calendar(actor: User | str, practitioner: Practitioner, data: bytes, slot_minutes: int = 15,
                    mode: str = SlotMode.OFFICE, now: datetime | None = None) -> ImportResult:
    """Create the slots of an .ics file in one transaction; report what was skipped and why."""
    rules = Rules.from_config()
    now = now or utcnow()
    if not rules.min_minutes <= slot_minutes <= rules.max_minutes:
        raise Invalid(f"Un créneau dure de {rules.min_minutes} à {rules.max_minutes} min",
                      fields={"slot_minutes": [f"between {rules.min_minutes} and {rules.max_minutes}"]})
    horizon = now + timedelta(days=rules.horizon_days)
    calendar = parse(data, rules.horizon_days)
    result = ImportResult()
    pieces = _pieces(calendar, slot_minutes, rules, now, horizon, result)
    with write_transaction():
        kept = _without_overlaps(practitioner, pieces, result)
        if kept:
            result.slots = add_slots(actor, practitioner, [p.interval for p in kept], mode, action="slot.import",
                                     summary={"skipped": len(result.skipped)})
    return result


def parse(data: bytes, horizon_days: int = 366) -> icalendar.Calendar:
    """The calendar in ``data``, or a 422 for anything that is not a reasonable iCalendar file."""
    if len(data) > MAX_ICS_BYTES:
        raise Invalid(f"Fichier trop volumineux (au plus {MAX_ICS_BYTES // 1000} ko)",
                      fields={"file": ["too large"]}, code="file_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unreadable("not UTF-8 text")
    if "\x00" in text or "BEGIN:VCALENDAR" not in text[:2000].upper():
        raise _unreadable("not an iCalendar file")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError):
        raise _unreadable("malformed iCalendar")
    events = calendar.walk("VEVENT")
    if not events:
        raise Invalid("Le fichier ne contient aucun événement", fields={"file": ["no VEVENT"]}, code="invalid_ics")
    if len(events) > MAX_EVENTS:
        raise Invalid(f"Trop d'événements (au plus {MAX_EVENTS})", fields={"file": ["too many events"]},
                      code="invalid_ics")
    _check_events(events, horizon_days)
    return calendar


def _unreadable(reason: str) -> Invalid:
    return Invalid("Ce fichier n'est pas un agenda .ics lisible", fields={"file": [reason]}, code="invalid_ics")


def _check_events(events: list, horizon_days: int) -> None:
    """Every event has a start; every rule is one ``recurrence`` reads (a rule that can never match, or an
    INTERVAL of 0, is refused here); the occurrences in the window, estimated, are within the cap."""
    occurrences = 0
    for event in events:
        uid = str(event.get("UID", "?"))
        try:
            event.decoded("DTSTART")
        except (KeyError, ValueError, TypeError):
            raise Invalid("Un événement n'a pas de début (DTSTART) lisible", fields={"file": [f"event {uid}: no DTSTART"]},
                          code="invalid_ics")
        occurrences += 1 + sum(len(rdate.dts) for rdate in _as_list(event.get("RDATE") or []))
        occurrences += sum(_window_occurrences(_rule(value, uid), horizon_days) for value in _rrules(event))
    if occurrences > MAX_OCCURRENCES:
        raise _too_many_occurrences()


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _rrules(event) -> list:
    return _as_list(event["RRULE"]) if event.get("RRULE") else []


def _rule(value, uid: str) -> recurrence.Rule:
    try:
        return recurrence.parse(value.to_ical().decode() if hasattr(value, "to_ical") else str(value))
    except recurrence.RuleError as error:
        raise Invalid(error.message, fields={"file": [f"event {uid}: {error.reason}"]}, code="invalid_ics") from None


def _too_many_occurrences() -> Invalid:
    return Invalid(f"Trop d'occurrences dans l'horizon de publication (au plus {MAX_OCCURRENCES})",
                   fields={"file": ["too many occurrences"]}, code="too_many_slots")


def _window_occurrences(rule: recurrence.Rule, horizon_days: int) -> int:
    """An upper bound of one rule's occurrences inside the publishing window (COUNT caps it)."""
    by_values = max(1, len(rule.months)) * max(1, len(rule.month_days)) * max(1, len(rule.weekdays) + len(rule.nth_weekdays))
    estimate = (horizon_days // (_PERIOD_DAYS[rule.freq] * rule.interval) + 2) * by_values
    return min(estimate, rule.count) if rule.count else estimate


def _expand_rules(calendar, begin: datetime, end: datetime) -> None:
    """Replace each event's RRULE by RDATEs: its occurrences that can reach the window [begin, end].

    recurring-ical-events would hand the rule to dateutil, whose loop has no bound (a rule that never
    matches again walks to the year 9999); ``recurrence`` expands it instead, within the window and a
    budget of days for the whole file, and recurring-ical-events applies EXDATE and RECURRENCE-ID to the
    dates as it would to the rule's.
    """
    budget, found = MAX_EXPANSION_DAYS, 0
    for event in calendar.walk("VEVENT"):
        if not event.get("RRULE"):
            continue
        uid = str(event.get("UID", "?"))
        start = event.decoded("DTSTART")
        zone = start.tzinfo if isinstance(start, datetime) else None
        wall = start.replace(tzinfo=None) if isinstance(start, datetime) else datetime.combine(start, time(0))
        # An occurrence begun before the window still reaches it while it lasts.
        first = _wall_clock(begin, zone) - _length(event, start) - timedelta(days=1)
        last = _wall_clock(end, zone) + timedelta(days=1)
        dates = set()
        for value in _rrules(event):
            rule = _rule(value, uid)
            until = rule.until_wall_clock(zone)
            try:
                expansion = recurrence.expand(rule, wall, min(until or last, last), limit=MAX_OCCURRENCES - found + 1,
                                              budget=budget, skip_to=first)
            except recurrence.TooCostly as error:
                raise Invalid(error.message, code="invalid_ics", fields={"file": [
                    f"recurrences too costly to expand (more than {MAX_EXPANSION_DAYS} days examined)"]}) from None
            budget -= expansion.examined
            dates.update(expansion.starts)
            found += len(expansion.starts)
            if found > MAX_OCCURRENCES:
                raise _too_many_occurrences()
        del event["RRULE"]
        if dates:
            event.add("RDATE", [moment.replace(tzinfo=zone) if isinstance(start, datetime) else moment.date()
                                for moment in sorted(dates)])


def _wall_clock(moment: datetime, zone) -> datetime:
    # Floating times (no TZID, no Z) are read as Europe/Paris, as ``_utc`` reads them.
    return (moment.astimezone(zone) if zone else to_paris(moment)).replace(tzinfo=None)


def _length(event, start: date | datetime) -> timedelta:
    try:
        if "DTEND" in event:
            length = event.decoded("DTEND") - start
        else:
            length = event.decoded("DURATION") if "DURATION" in event else timedelta(0)
    except (KeyError, ValueError, TypeError):
        return timedelta(0)
    return max(length, timedelta(0)) if isinstance(length, timedelta) else timedelta(0)


@dataclass
class _Budget:
    """The slots an import may still create, spent as occurrences are counted, before they are split."""

    left: int
    cap: int

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise Invalid(f"Au plus {self.cap} créneaux par import", code="too_many_slots",
                          fields={"slots": [f"at most {self.cap} slots per request"]})


def _pieces(calendar, slot_minutes: int, rules: Rules, now: datetime, horizon: datetime,
            result: ImportResult) -> list[Piece]:
    _expand_rules(calendar, now - timedelta(days=1), horizon)
    try:
        occurrences = recurring_ical_events.of(calendar).between(now - timedelta(days=1), horizon)
    except (ValueError, TypeError):  # recurring-ical-events errors are ValueErrors
        raise _unreadable("recurrence cannot be expanded")
    pieces: list[Piece] = []
    seen_uids = set()
    budget = _Budget(rules.max_slots, rules.max_slots)
    for occurrence in occurrences:
        uid = str(occurrence.get("UID")) if occurrence.get("UID") else None
        seen_uids.add(uid)
        pieces.extend(_occurrence_pieces(occurrence, uid, slot_minutes, rules, now, result, budget))
    _report_unseen(calendar, seen_uids, now, result)
    return pieces


def _occurrence_pieces(occurrence, uid: str | None, slot_minutes: int, rules: Rules, now: datetime,
                       result: ImportResult, budget: _Budget) -> list[Piece]:
    start = occurrence.decoded("DTSTART")
    if not isinstance(start, datetime):
        result.skip(uid, start, "all_day")
        return []
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        result.skip(uid, _aware(start), "cancelled")
        return []
    try:
        begin = _utc(start, "DTSTART")
        end = _utc(occurrence.decoded("DTEND"), "DTEND") if "DTEND" in occurrence else begin
    except Invalid as error:
        result.skip(uid, None, error.code, f"{error.message}")
        return []
    if (end - begin) < timedelta(minutes=slot_minutes):
        intervals = [Interval(begin, end)]
        budget.spend(1)
    else:
        intervals = _window_pieces(uid, begin, end, slot_minutes, now, now + timedelta(days=rules.horizon_days),
                                   result, budget)
    kept = []
    for interval in intervals:
        problem = problem_with(interval, rules, now)
        if problem is None:
            kept.append(Piece(interval, uid))
        elif problem.code == "invalid_duration" and len(intervals) == 1:
            result.skip(uid, begin, "too_short")
        else:
            result.skip(uid, interval.start, problem.code if problem.code in SKIP_MESSAGES else "too_short")
    return kept


def _window_pieces(uid: str | None, begin: datetime, end: datetime, slot_minutes: int, now: datetime,
                   horizon: datetime, result: ImportResult, budget: _Budget) -> list[Interval]:
    """The slots of one occurrence that start inside [now, horizon], counted before they are built.

    A long event (118 days at 5 minutes is 34,000 slots) is counted arithmetically and refused
    when over the cap; its parts before now or past the horizon are reported once each, not slot by slot.
    """
    step = timedelta(minutes=slot_minutes)
    total = (end - begin) // step
    first = 0 if begin >= now else min(total, -((begin - now) // step))  # ceil((now - begin) / step)
    last = total if begin + (total - 1) * step <= horizon else max(first, min(total, (horizon - begin) // step + 1))
    budget.spend(last - first)
    if first > 0:
        result.skip(uid, begin, "past")
    if last < total:
        result.skip(uid, begin + last * step, "beyond_horizon")
    return [Interval(begin + i * step, begin + (i + 1) * step) for i in range(first, last)]


def _utc(moment: datetime, field_name: str) -> datetime:
    # Floating times (no TZID, no Z) are read as Europe/Paris: the agendas of our GPs are French.
    if moment.tzinfo is None:
        return paris_to_utc(moment, field_name)
    return zoned_to_utc(moment, field=field_name)


def _aware(moment: datetime) -> datetime | None:
    return moment if moment.tzinfo else None


def _report_unseen(calendar, seen_uids: set, now: datetime, result: ImportResult) -> None:
    """Events with no occurrence in the window: entirely past, or entirely beyond the horizon."""
    reported = set()
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID")) if event.get("UID") else None
        if uid in seen_uids or uid in reported or "RECURRENCE-ID" in event:
            continue
        reported.add(uid)
        start = event.decoded("DTSTART")
        if not isinstance(start, datetime):
            result.skip(uid, start, "all_day")
            continue
        try:
            begin = _utc(start, "DTSTART")
        except Invalid as error:
            result.skip(uid, None, error.code, error.message)
            continue
        result.skip(uid, begin, "past" if begin < now else "beyond_horizon")


def _without_overlaps(practitioner: Practitioner, pieces: list[Piece], result: ImportResult) -> list[Piece]:
    """Drop pieces overlapping an existing slot or an earlier piece of the file; call inside the transaction."""
    if not pieces:
        return []
    ordered = sorted(pieces, key=lambda p: p.interval)
    existing = existing_slots(practitioner.id, ordered[0].interval.start, max(p.interval.end for p in ordered))
    clashing = clashes([p.interval for p in ordered], existing)
    kept: list[Piece] = []
    for piece in ordered:
        if piece.interval in clashing or (kept and piece.interval.start < kept[-1].interval.end):
            result.skip(piece.uid, piece.interval.start, "overlap")
        else:
            kept.append(piece)
    return kept
