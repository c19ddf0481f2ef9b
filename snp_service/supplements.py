"""The majoration SNP: which regulated acts earn it, the ledger that accounts for it, the statement.

The rules are configuration (``SUPPLEMENT_RULES``); the defaults follow the NGAP
art. 14.1.3 (May 2023, SPEC section 3). An act is a booking that is active, honored
and came through a regulated channel. Each act gets a verdict: eligible, or the
first rule that excluded it. The ledger is append-only: when a verdict changes
after accrual (a late cancellation, an outcome corrected) a reversal line is added.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays
from flask import current_app
from sqlalchemy import delete, func, insert, select, type_coerce
from sqlalchemy.types import NullType

from . import audit
from .database import write_transaction
from .extensions import db
from .models import Booking, Practitioner, Slot, SupplementAct, SupplementLine, practitioner_cpts
from .timeutil import paris_day_bounds, paris_today, to_paris, utcnow


@dataclass(frozen=True)
class Rules:
    amount_cents: int
    channels: tuple[str, ...]
    max_delay: timedelta
    weekly_cap: int
    weeknight_from: time
    weeknight_until: time
    saturday_from: time

    @classmethod
    def from_config(cls, settings: dict) -> Rules:
        return cls(
            amount_cents=int(settings["amount_cents"]),
            channels=tuple(settings["channels"]),
            max_delay=timedelta(hours=settings["max_delay_hours"]),
            weekly_cap=int(settings["weekly_cap"]),
            weeknight_from=time.fromisoformat(settings["pdsa_weeknight_from"]),
            weeknight_until=time.fromisoformat(settings["pdsa_weeknight_until"]),
            saturday_from=time.fromisoformat(settings["pdsa_saturday_from"]),
        )


def current_rules() -> Rules:
    return Rules.from_config(current_app.config["SUPPLEMENT_RULES"])


@dataclass
class Act:
    booking_id: int
    practitioner_id: int
    start_at: datetime
    booked_at: datetime
    channel: str
    by_treating_doctor: bool
    excluded_by: str | None = None

    @property
    def eligible(self) -> bool:
        return self.excluded_by is None

    @property
    def month(self) -> str:
        return to_paris(self.start_at).strftime("%Y-%m")


@lru_cache(maxsize=64)
def _french_public_holidays(year: int) -> frozenset[date]:
    """The dates of the year's French public holidays (a frozenset: ``HolidayBase.__contains__`` is slow)."""
    return frozenset(holidays.France(years=year))


def is_pdsa(start_at: datetime, rules: Rules) -> bool:
    """Whether a slot starts during PDSA hours (out-of-hours duty), which the SNP supplement never pays."""
    return _is_pdsa_local(to_paris(start_at), rules)


def _is_pdsa_local(local: datetime, rules: Rules) -> bool:
    if local.weekday() == 6 or local.date() in _french_public_holidays(local.year):
        return True
    clock = local.time()
    # Before 08:00 is the end of the previous evening's duty (Saturday and Monday mornings too).
    if clock < rules.weeknight_until:
        return True
    return clock >= (rules.saturday_from if local.weekday() == 5 else rules.weeknight_from)


def _first_exclusion(act: Act, rules: Rules) -> str | None:
    if act.by_treating_doctor:
        return "treating_doctor"
    if act.start_at - act.booked_at > rules.max_delay:
        return "delay_over_48h"
    if is_pdsa(act.start_at, rules):
        return "pdsa_hours"
    return None


def evaluate(acts: list[Act], rules: Rules) -> list[Act]:
    """Give each act its verdict. ``acts`` must hold whole ISO weeks, or the weekly cap counts wrong."""
    counted: dict[tuple, int] = defaultdict(int)
    # The cap keeps the earliest acts of the week: walk them in slot order.
    for act in sorted(acts, key=lambda a: (a.start_at, a.booking_id)):
        act.excluded_by = _first_exclusion(act, rules)
        if act.excluded_by is None:
            week = (act.practitioner_id, to_paris(act.start_at).isocalendar()[:2])
            counted[week] += 1
            if counted[week] > rules.weekly_cap:
                act.excluded_by = "weekly_cap"
    return acts


def _whole_weeks(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Widen [start, end) to whole Europe/Paris ISO weeks."""
    first = to_paris(start).date()
    last = to_paris(end - timedelta(microseconds=1)).date()
    first -= timedelta(days=first.weekday())
    last += timedelta(days=6 - last.weekday())
    return paris_day_bounds(first)[0], paris_day_bounds(last)[1]


def _members(cpts_ids: list[int]):
    return select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(cpts_ids))


def _load_acts(start: datetime, end: datetime, rules: Rules, cpts_ids: list[int] | None = None) -> list[Act]:
    query = (
        select(Booking.id, Slot.practitioner_id, Slot.start_at, Booking.created_at, Booking.channel,
               Booking.by_treating_doctor)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.status == "booked", Booking.outcome == "honored", Booking.channel.in_(rules.channels),
               Slot.start_at >= start, Slot.start_at < end)
    )
    if cpts_ids is not None:
        # The cap counts all of a practitioner's acts, whichever CPTS asks.
        query = query.where(Slot.practitioner_id.in_(_members(cpts_ids)))
    return [Act(*row) for row in db.session.execute(query)]


def total_cents(cpts_ids: list[int], start: date, end: date) -> int:
    """Supplement earned by acts whose slot starts in the Paris days ``start``..``end``, from current data.

    The same verdicts as ``evaluate`` over ``_load_acts``, counted without building the acts: the
    treating-doctor rule is applied by the query, which returns the other acts in slot order as
    bare driver values; the PDSA test and the Paris ISO week are computed once per distinct slot
    start (a few thousand a season), and the weekly cap counts the acts that passed the rules.
    """
    lo, hi = paris_day_bounds(start)[0], paris_day_bounds(end)[1]
    rules = current_rules()
    week_lo, week_hi = _whole_weeks(lo, hi)
    query = (
        select(Slot.practitioner_id, _raw(Slot.start_at), _raw(Booking.created_at))
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.status == "booked", Booking.outcome == "honored", Booking.channel.in_(rules.channels),
               Booking.by_treating_doctor.isnot(True), Slot.start_at >= week_lo, Slot.start_at < week_hi)
        .order_by(Slot.start_at, Booking.id)
    )
    if cpts_ids is not None:
        # The cap counts all of a practitioner's acts, whichever CPTS asks.
        query = query.where(Slot.practitioner_id.in_(_members(cpts_ids)))
    # SQLite gives UTCDateTime's naive UTC text: parsed as naive, both sides of the delay alike.
    parse = datetime.fromisoformat if db.engine.dialect.name == "sqlite" else _same
    starts: dict = {}  # driver value of a slot start -> (start, PDSA?, ISO week, in the period?)
    counted: dict[tuple, int] = defaultdict(int)
    cap, max_delay, eligible = rules.weekly_cap, rules.max_delay, 0
    for practitioner_id, start_value, created_value in db.session.connection().execute(query).all():
        known = starts.get(start_value)
        if known is None:
            start_at = parse(start_value)
            utc = start_at if start_at.tzinfo is not None else start_at.replace(tzinfo=timezone.utc)
            local = to_paris(utc)
            known = starts[start_value] = (start_at, _is_pdsa_local(local, rules), local.isocalendar()[:2],
                                           lo <= utc < hi)
        start_at, pdsa, week, in_period = known
        if pdsa or start_at - parse(created_value) > max_delay:
            continue
        key = (practitioner_id, week)
        counted[key] += 1
        if in_period and counted[key] <= cap:
            eligible += 1
    return eligible * rules.amount_cents


def _raw(column):
    """The column as the driver returns it, without ``UTCDateTime``'s per-row conversion."""
    return type_coerce(column, NullType())


def _same(value):
    return value


def accrue(actor: str = "job:accrue_supplements", today: date | None = None) -> dict:
    """Re-evaluate the acts of the recent weeks and add the ledger lines that bring each act to its due amount.

    Acts older than ``SUPPLEMENT_RECOMPUTE_DAYS`` are closed: what was accrued for them stays.
    """
    today = today or paris_today()
    first = today - timedelta(days=current_app.config["SUPPLEMENT_RECOMPUTE_DAYS"])
    return accrue_between(actor, first, today)


def accrue_between(actor, first: date, last: date) -> dict:
    """Evaluate the acts of the Paris days ``first``..``last`` (widened to whole weeks) and correct the ledger."""
    with write_transaction():
        return record_accruals(actor, first, last)


def record_accruals(actor, first: date, last: date) -> dict:
    """``accrue_between`` inside the caller's transaction.

    A history import calls it with the rows it adds, so imported acts reach the
    statement like live ones, all or nothing with the import.
    """
    start, end = _whole_weeks(paris_day_bounds(first)[0], paris_day_bounds(last)[1])
    rules = current_rules()
    now = utcnow()
    acts = evaluate(_load_acts(start, end, rules), rules)
    db.session.execute(delete(SupplementAct).where(SupplementAct.start_at >= start, SupplementAct.start_at < end))
    # Core inserts (one executemany): the ORM's bulk insert splits batches wherever a value is None.
    if acts:
        db.session.execute(insert(SupplementAct.__table__), [_verdict_row(act, now) for act in acts])
    lines = _ledger_corrections(acts, start, end, rules, now)
    if lines:
        db.session.execute(insert(SupplementLine.__table__), lines)
    counts = {
        "acts": len(acts),
        "eligible": sum(act.eligible for act in acts),
        "accruals": sum(line["kind"] == "accrual" for line in lines),
        "reversals": sum(line["kind"] == "reversal" for line in lines),
        "net_cents": sum(line["amount_cents"] for line in lines),
    }
    audit.record(actor, "supplement.accrue", SupplementLine.__tablename__,
                 after={"from": to_paris(start).date().isoformat(), **counts})
    return counts


def _verdict_row(act: Act, now: datetime) -> dict:
    return {"booking_id": act.booking_id, "practitioner_id": act.practitioner_id, "start_at": act.start_at,
            "month": act.month, "channel": act.channel, "eligible": act.eligible, "excluded_by": act.excluded_by,
            "evaluated_at": now}


def _ledger_corrections(acts: list[Act], start: datetime, end: datetime, rules: Rules, now: datetime) -> list[dict]:
    """Lines bringing each booking's net ledger amount to what its verdict earns now (none when equal)."""
    ledger = (
        select(SupplementLine.booking_id, SupplementLine.practitioner_id, SupplementLine.month,
               func.sum(SupplementLine.amount_cents))
        .join(Booking, Booking.id == SupplementLine.booking_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Slot.start_at >= start, Slot.start_at < end)
        .group_by(SupplementLine.booking_id, SupplementLine.practitioner_id, SupplementLine.month)
    )
    accrued = {booking_id: (practitioner_id, month, int(net)) for booking_id, practitioner_id, month, net
               in db.session.execute(ledger)}
    due = {act.booking_id: (act.practitioner_id, act.month, rules.amount_cents if act.eligible else 0)
           for act in acts}
    lines = []
    for booking_id in sorted(due.keys() | accrued.keys()):
        practitioner_id, month, amount = due.get(booking_id) or (*accrued[booking_id][:2], 0)
        difference = amount - accrued.get(booking_id, (None, None, 0))[2]
        if difference:
            lines.append({"practitioner_id": practitioner_id, "booking_id": booking_id, "month": month,
                          "amount_cents": difference, "kind": "accrual" if difference > 0 else "reversal",
                          "created_at": now})
    return lines


def month_days(month: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` month."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def statement(cpts_id: int, month: str, *, practitioner_id: int | None = None, detail: bool = False) -> dict:
    """The month's statement (``YYYY-MM``) of a CPTS."""
    first, last = month_days(month)
    return {"month": month, **period_statement(cpts_id, first, last, practitioner_id=practitioner_id, detail=detail)}


def season_statement(season, *, practitioner_id: int | None = None, detail: bool = False) -> dict:
    """The statement of a season (a ``Season``: its CPTS and days, both included)."""
    return {"season": season.name, **period_statement(season.cpts_id, season.start_date, season.end_date,
                                                      practitioner_id=practitioner_id, detail=detail)}


def period_statement(cpts_id: int, first: date, last: date, *, practitioner_id: int | None = None,
                     detail: bool = False) -> dict:
    """The statement of a CPTS for the Paris days ``first``..``last`` (a month or a season), per practitioner.

    Built from the ledger and the verdicts. ``acts`` counts the acts that earn the
    supplement; with ``detail`` it lists every act with its verdict instead, and
    ``eligible_acts`` keeps the count.
    """
    lo, hi = paris_day_bounds(first)[0], paris_day_bounds(last)[1]
    members = _members([cpts_id])
    if practitioner_id is not None:
        members = members.where(practitioner_cpts.c.practitioner_id == practitioner_id)
    verdicts = db.session.scalars(
        select(SupplementAct).where(SupplementAct.practitioner_id.in_(members),
                                    SupplementAct.start_at >= lo, SupplementAct.start_at < hi)
        .order_by(SupplementAct.start_at, SupplementAct.booking_id)
    ).all()
    amounts = dict(db.session.execute(
        select(SupplementLine.practitioner_id, func.sum(SupplementLine.amount_cents))
        .join(Booking, Booking.id == SupplementLine.booking_id).join(Slot, Slot.id == Booking.slot_id)
        .where(SupplementLine.practitioner_id.in_(members), Slot.start_at >= lo, Slot.start_at < hi)
        .group_by(SupplementLine.practitioner_id)
    ).all())
    acts_of = defaultdict(list)
    for verdict in verdicts:
        acts_of[verdict.practitioner_id].append(verdict)
    practitioners = db.session.scalars(
        select(Practitioner).where(Practitioner.id.in_(acts_of.keys() | amounts.keys()))
        .order_by(Practitioner.last_name, Practitioner.first_name, Practitioner.id)
    ).all()
    lines = [_statement_line(p, acts_of[p.id], int(amounts.get(p.id, 0)), detail) for p in practitioners]
    return {"from": first, "to": last, "lines": lines, "total_cents": sum(line["amount_cents"] for line in lines)}


def _statement_line(practitioner: Practitioner, verdicts: list[SupplementAct], amount_cents: int, detail: bool) -> dict:
    eligible = sum(v.eligible for v in verdicts)
    line = {"practitioner_id": practitioner.id, "rpps": practitioner.rpps, "last_name": practitioner.last_name,
            "first_name": practitioner.first_name, "acts": eligible, "eligible_acts": eligible,
            "amount_cents": amount_cents}
    if detail:
        line["acts"] = [{"booking_id": v.booking_id, "start": to_paris(v.start_at).isoformat(), "channel": v.channel,
                         "eligible": v.eligible, "excluded_by": v.excluded_by} for v in verdicts]
    return line
