"""Publishing SNP slots: one slot, a batch, a block split into slots, a weekly series; withdrawing.

Every request is one transaction and all or nothing. The rules (duration,
past, horizon, overlap, cap per request) are checked here with a French
message; the database still holds the overlap invariant (PostgreSQL exclusion
constraint, SQLite triggers), so a concurrent writer that slips past the
check gets a 409 too instead of a double-booked agenda.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..core.database import constraint_name, write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.timeutil import PARIS, as_utc, paris_to_utc, to_paris, utcnow
from ..models import Practitioner, Slot, SlotMode, SlotStatus, User
from ..policy import practitioner_in_scope
from . import recurrence

# Frequencies finer than a day serve no agenda and make huge expansions cheap to ask for; a yearly
# series reaches past any horizon.
SERIES_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")


@dataclass(frozen=True, order=True)
class Interval:
    """A slot to be: UTC start and end."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rules:
    min_minutes: int
    max_minutes: int
    horizon_days: int
    max_slots: int

    @classmethod
    def from_config(cls) -> Rules:
        config = current_app.config
        return cls(config["SLOT_MIN_MINUTES"], config["SLOT_MAX_MINUTES"], config["PUBLISH_HORIZON_DAYS"],
                   config["MAX_SLOTS_PER_REQUEST"])


@dataclass(frozen=True)
class Problem:
    """Why an interval cannot become a slot: a code for machines, a French message for people."""

    code: str
    message: str


# --- turning a request into intervals -------------------------------------------------------


def instant(value: datetime, field: str = "start") -> datetime:
    """An aware datetime in UTC; a naive one is a Europe/Paris wall-clock time (DST gap/fold refused)."""
    try:
        return paris_to_utc(value, field) if value.tzinfo is None else as_utc(value)
    except OverflowError:  # year 1 or 9999: the conversion leaves Python's calendar
        raise Invalid("Date hors limites", fields={field: ["out of range"]}, code="out_of_range") from None


def single(start: datetime, end: datetime) -> list[Interval]:
    return [Interval(instant(start, "start"), instant(end, "end"))]


def block(start: datetime, end: datetime, slot_minutes: int, rules: Rules) -> list[Interval]:
    """A block split into consecutive slots; it must hold a whole number of them."""
    start, end = instant(start, "block.start"), instant(end, "block.end")
    if end <= start:
        raise Invalid("La fin de la plage doit être après son début", fields={"block.end": ["must be after start"]},
                      code="end_before_start")
    total = int((end - start).total_seconds() // 60)
    if total % slot_minutes or (end - start) % timedelta(minutes=1):
        raise Invalid(f"La plage de {total} min ne se découpe pas en créneaux de {slot_minutes} min",
                      fields={"block.slot_minutes": ["block length is not a multiple of slot_minutes"]},
                      code="block_not_divisible")
    # Counted before any slot is built: a block to 2199 in 1-minute slots is 90 million intervals.
    check_count(total // slot_minutes, rules)
    return split(start, end, slot_minutes)


def check_count(count: int, rules: Rules) -> None:
    """Refuse a request that would create more than ``rules.max_slots`` slots (counted, not built)."""
    if count > rules.max_slots:
        raise Invalid(f"Au plus {rules.max_slots} créneaux par envoi ({count} demandés)",
                      fields={"slots": [f"at most {rules.max_slots} slots per request"]}, code="too_many_slots")


def split(start: datetime, end: datetime, slot_minutes: int) -> list[Interval]:
    """Consecutive slots of ``slot_minutes`` from ``start``; a remainder shorter than a slot is left out.

    Computed on UTC instants, so a block running over a DST change keeps real durations.
    Callers bound the count first (``check_count``).
    """
    step = timedelta(minutes=slot_minutes)
    count = int((end - start) / step)
    return [Interval(start + i * step, start + (i + 1) * step) for i in range(count)]


def series(first_start: datetime, block_minutes: int, slot_minutes: int, rrule: str,
           rules: Rules | None = None, now: datetime | None = None) -> list[Interval]:
    """A weekly (or daily, monthly) series of blocks, expanded on Europe/Paris wall-clock times.

    Expanding local times, then converting each one, keeps a 17:00 block at 17:00
    on both sides of a daylight-saving change; an occurrence falling in the
    spring gap or the autumn fold is refused rather than silently shifted.
    """
    rules = rules or Rules.from_config()
    if first_start.tzinfo is not None:
        raise Invalid("Le début de la série est une heure locale de Paris, sans décalage",
                      fields={"series.first_start": ["must be a local time without offset"]})
    if block_minutes % slot_minutes:
        raise Invalid(f"La plage de {block_minutes} min ne se découpe pas en créneaux de {slot_minutes} min",
                      fields={"series.block_minutes": ["not a multiple of slot_minutes"]}, code="block_not_divisible")
    per_block = block_minutes // slot_minutes
    starts = _occurrences(first_start, rrule, per_block, rules, now or utcnow())
    check_count(len(starts) * per_block, rules)
    intervals: list[Interval] = []
    for local_start in starts:
        start = paris_to_utc(local_start, "series.first_start")
        intervals.extend(split(start, start + timedelta(minutes=block_minutes), slot_minutes))
    if not intervals:
        raise Invalid("Aucun créneau : aucun des jours choisis ne tombe entre le premier et le dernier jour",
                      fields={"series.rrule": ["no occurrence"]})
    return intervals


def _occurrences(first_start: datetime, rrule: str, per_block: int, rules: Rules, now: datetime) -> list[datetime]:
    """The series' local start times, its cost bounded before and during the expansion.

    COUNT is checked against the cap first; the rule is read and expanded by ``recurrence`` (never by
    dateutil's loop, which walks to the year 9999 looking for an occurrence of a rule that has none), and
    the walk never passes the publishing horizon: a series going further is refused before it starts.
    """
    try:
        rule = recurrence.parse(rrule, SERIES_FREQUENCIES)
    except recurrence.RuleError as error:
        raise Invalid(error.message, fields={"series.rrule": [error.reason]}, code=error.code) from None
    if rule.until is None and rule.count is None:
        raise Invalid("Précisez la fin de la série (UNTIL) ou le nombre d'occurrences (COUNT)",
                      fields={"series.rrule": ["exactly one of UNTIL or COUNT is required"]}, code="invalid_rrule")
    if rule.count is not None:
        check_count(rule.count * per_block, rules)
    horizon = now + timedelta(days=rules.horizon_days)
    # The walk's end: the horizon's Paris day, whole (an occurrence later that day is refused by its own
    # rule, with its date); the series' wall-clock times are naive Paris times.
    walk_end = datetime.combine(to_paris(horizon).date(), time(23, 59, 59))
    if first_start < to_paris(now).replace(tzinfo=None) - timedelta(days=1):
        raise Invalid(f"La série commence le {first_start:%d/%m/%Y}, déjà passé", code="in_the_past",
                      fields={"series.first_start": ["in the past"]})
    until = rule.until_wall_clock(PARIS)
    if first_start > walk_end or (until is not None and until > walk_end):
        raise Invalid(f"La série dépasse l'horizon de publication : on publie au plus {rules.horizon_days} jours "
                      f"à l'avance, jusqu'au {_local(horizon, '%d/%m/%Y')}", code="beyond_horizon",
                      fields={"series.rrule": ["ends beyond the publishing horizon"]})
    limit = rules.max_slots // per_block + 1
    try:
        starts = recurrence.expand(rule, first_start, min(until or walk_end, walk_end), limit=limit).starts
    except recurrence.RuleError as error:
        raise Invalid(error.message, fields={"series.rrule": [error.reason]}, code=error.code) from None
    if rule.count is not None and 0 < len(starts) < rule.count:
        # The rest of the COUNT lies past the walk's end, so past the horizon.
        raise Invalid("La série dépasse l'horizon de publication", code="beyond_horizon",
                      fields={"series.rrule": ["occurrences beyond the publishing horizon"]})
    return starts


def intervals_for(request: dict, rules: Rules, now: datetime | None = None) -> list[Interval]:
    """The intervals asked by one POST /slots body: a slot, ``slots``, ``block`` or ``series``."""
    if "series" in request:
        spec = request["series"]
        return series(spec["first_start"], spec["block_minutes"], spec["slot_minutes"], spec["rrule"], rules, now)
    if "block" in request:
        spec = request["block"]
        return block(spec["start"], spec["end"], spec["slot_minutes"], rules)
    if "slots" in request:
        check_count(len(request["slots"]), rules)
        return [interval for item in request["slots"] for interval in single(item["start"], item["end"])]
    return single(request["start"], request["end"])


# --- rules ----------------------------------------------------------------------------------


def problem_with(interval: Interval, rules: Rules, now: datetime) -> Problem | None:
    """The first publishing rule ``interval`` breaks, overlap aside."""
    minutes = (interval.end - interval.start).total_seconds() / 60
    if interval.end <= interval.start:
        return Problem("end_before_start", "La fin du créneau doit être après son début")
    if not rules.min_minutes <= minutes <= rules.max_minutes:
        return Problem("invalid_duration",
                       f"Un créneau dure de {rules.min_minutes} à {rules.max_minutes} min ({minutes:g} min demandées)")
    if interval.start < now:
        return Problem("in_the_past", f"Le créneau du {_local(interval.start)} est déjà passé")
    if interval.start > now + timedelta(days=rules.horizon_days):
        limit = now + timedelta(days=rules.horizon_days)
        return Problem("beyond_horizon",
                       f"Le créneau du {_local(interval.start)} est trop loin : on publie au plus "
                       f"{rules.horizon_days} jours à l'avance, jusqu'au {_local(limit, '%d/%m/%Y')}")
    return None


def check_intervals(intervals: list[Interval], rules: Rules, now: datetime) -> None:
    if not intervals:
        raise Invalid("Aucun créneau à publier", fields={"slots": ["empty"]})
    check_count(len(intervals), rules)
    for interval in intervals:
        problem = problem_with(interval, rules, now)
        if problem:
            raise Invalid(problem.message, fields={"start": [problem.code]}, code=problem.code)
    ordered = sorted(intervals)
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end:
            raise Conflict(f"Deux créneaux demandés se chevauchent ({_local(after.start)})",
                           fields={"start": ["overlaps another slot of the request"]}, code="slot_overlap")


def existing_slots(practitioner_id: int, start: datetime, end: datetime) -> list[Slot]:
    """The practitioner's non-withdrawn slots meeting [start, end), by start."""
    return list(db.session.scalars(
        select(Slot).where(Slot.practitioner_id == practitioner_id, Slot.status != SlotStatus.WITHDRAWN,
                           Slot.start_at < end, Slot.end_at > start).order_by(Slot.start_at)))


def clashes(intervals: list[Interval], existing: list[Slot]) -> dict[Interval, Slot]:
    """Each interval overlapping an existing slot, with that slot (a sweep over both sorted lists)."""
    found: dict[Interval, Slot] = {}
    slots = sorted(existing, key=lambda s: s.start_at)
    index = 0
    for interval in sorted(intervals):
        while index < len(slots) and slots[index].end_at <= interval.start:
            index += 1
        probe = index
        while probe < len(slots) and slots[probe].start_at < interval.end:
            if slots[probe].end_at > interval.start:
                found[interval] = slots[probe]
                break
            probe += 1
    return found


def overlap_conflict(slot: Slot | None) -> Conflict:
    where = f" du {_local(slot.start_at, '%d/%m/%Y de %H:%M')} à {_local(slot.end_at, '%H:%M')}" if slot else ""
    return Conflict(f"Ce créneau chevauche votre créneau{where}",
                    fields={"start": [f"overlaps slot {slot.id}" if slot else "overlaps an existing slot"]},
                    code="slot_overlap", extra={"clashing_slot_id": slot.id if slot else None})


def refuse_clashes(practitioner: Practitioner, intervals: list[Interval]) -> None:
    """Refuse ``intervals`` if one overlaps a non-withdrawn slot of the practitioner."""
    existing = existing_slots(practitioner.id, min(intervals).start, max(i.end for i in intervals))
    found = clashes(intervals, existing)
    if found:
        raise overlap_conflict(found[min(found)])


# --- writing ----------------------------------------------------------------------------------


def publish_request(actor: User | str, practitioner: Practitioner, request: dict,
                    now: datetime | None = None) -> list[Slot]:
    """Publish what one POST /slots body asks (see ``intervals_for``), all or nothing."""
    now = now or utcnow()
    intervals = intervals_for(request, Rules.from_config(), now)
    return publish(actor, practitioner, intervals, request.get("mode", SlotMode.OFFICE), now)


def clashing_days(practitioner: Practitioner, intervals: list[Interval]) -> list[date]:
    """The Paris days on which an interval overlaps one of the practitioner's non-withdrawn slots, in order."""
    if not intervals:
        return []
    existing = existing_slots(practitioner.id, min(intervals).start, max(i.end for i in intervals))
    return sorted({to_paris(interval.start).date() for interval in clashes(intervals, existing)})


def without_days(intervals: list[Interval], days: list[date]) -> list[Interval]:
    """``intervals`` less those starting on one of ``days`` (Paris): a day already occupied is skipped whole."""
    skipped = set(days)
    return [interval for interval in intervals if to_paris(interval.start).date() not in skipped]


def publish_around(actor: User | str, practitioner: Practitioner, request: dict,
                   now: datetime | None = None) -> tuple[list[Slot], list[date]]:
    """``on_conflict: "skip"`` (a block or a series): publish every day of the request but those already holding
    an overlapping slot, skipped whole; returns the slots and the skipped days. Refused (409) if none is left."""
    rules, now = Rules.from_config(), now or utcnow()
    intervals = intervals_for(request, rules, now)
    check_intervals(intervals, rules, now)
    with write_transaction():
        skipped = clashing_days(practitioner, intervals)
        kept = without_days(intervals, skipped)
        if not kept:
            raise Conflict("Tous les jours demandés sont déjà occupés", code="slot_overlap",
                           fields={"start": ["every day of the request overlaps an existing slot"]})
        refuse_clashes(practitioner, kept)
        slots = add_slots(actor, practitioner, kept, request.get("mode", SlotMode.OFFICE), action="slot.publish",
                          summary={"skipped_days": [day.isoformat() for day in skipped]})
    return slots, skipped


def publish(actor: User | str, practitioner: Practitioner, intervals: list[Interval], mode: str = SlotMode.OFFICE,
            now: datetime | None = None) -> list[Slot]:
    """Create every slot of ``intervals`` or none of them."""
    rules = Rules.from_config()
    now = now or utcnow()
    check_intervals(intervals, rules, now)
    with write_transaction():
        refuse_clashes(practitioner, intervals)
        return add_slots(actor, practitioner, intervals, mode, action="slot.publish")


def add_slots(actor: User | str, practitioner: Practitioner, intervals: list[Interval], mode: str,
              action: str, summary: dict | None = None) -> list[Slot]:
    """Insert checked slots and audit them as one event; call inside ``write_transaction``."""
    created_by = actor.id if isinstance(actor, User) else None
    now = utcnow()
    rows = [{"practitioner_id": practitioner.id, "start_at": i.start, "end_at": i.end, "mode": mode, "status": SlotStatus.FREE.value,
             "created_at": now, "created_by_id": created_by} for i in sorted(intervals)]
    try:
        # One multi-row INSERT ... RETURNING: a season of slots without a unit-of-work round per object.
        slots = sorted(db.session.scalars(insert(Slot).returning(Slot), rows), key=lambda slot: slot.start_at)
    except IntegrityError as error:
        # Another request published an overlapping slot between our check and our insert.
        if "ex_slot_no_overlap" in constraint_name(error):
            raise overlap_conflict(None)
        raise
    audit.record(actor, action, "slot", after={
        "practitioner_id": practitioner.id, "count": len(slots), "ids": [s.id for s in slots], "mode": mode,
        **(summary or {})})
    return slots


def withdraw(actor: User, slot_id: int) -> Slot:
    """Withdraw a free slot: it stays (status ``withdrawn``) so reports still see it was once offered."""
    with write_transaction():
        slot = db.session.scalar(select(Slot).where(Slot.id == slot_id).with_for_update())
        if slot is None or not practitioner_in_scope(actor, slot.practitioner_id):
            raise NotFound("Créneau introuvable")
        if slot.status == SlotStatus.WITHDRAWN:
            return slot
        if slot.status == SlotStatus.BOOKED:
            raise Conflict("Ce créneau est réservé : annulez d'abord le rendez-vous",
                           fields={"status": [SlotStatus.BOOKED]}, code="slot_booked")
        if slot.status == SlotStatus.EXPIRED:
            raise Conflict("Ce créneau est passé", fields={"status": [SlotStatus.EXPIRED]}, code="slot_expired")
        slot.status = SlotStatus.WITHDRAWN.value
        audit.record(actor, "slot.withdraw", slot, before={"status": SlotStatus.FREE}, after={"status": SlotStatus.WITHDRAWN})
    return slot


# --- reading ------------------------------------------------------------------------------------


def list_slots(practitioner_id: int, start: datetime, end: datetime, status: str | None = None,
               limit: int = 5000) -> list[Slot]:
    query = (select(Slot).where(Slot.practitioner_id == practitioner_id, Slot.start_at >= start, Slot.start_at < end)
             .order_by(Slot.start_at).limit(limit))
    if status:
        query = query.where(Slot.status == status)
    return list(db.session.scalars(query))


def _local(moment: datetime, pattern: str = "%d/%m/%Y à %H:%M") -> str:
    return moment.astimezone(PARIS).strftime(pattern)
