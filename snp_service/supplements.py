"""The majoration SNP: which regulated acts earn it, the ledger that accounts for it, the statement.

The rules are configuration (``SUPPLEMENT_RULES``); the defaults follow the NGAP
art. 14.1.3 (May 2023, SPEC section 3). An act is a booking that is active, honored
and came through a regulated channel. Each act gets a verdict (``evaluate``): eligible,
or the first rule that excluded it. The ledger is append-only: when a verdict changes
after accrual (a late cancellation, an outcome corrected) a reversal line is added.

The ledger is the one truth for the money: the statement, the reports and the
indicators all add up its lines (``ledger_cents``). It is kept exact by evaluating
again, in the same transaction, the week of every change that can alter an act: an
outcome recorded or corrected (``outcome_changed``) and a history import. A booking,
a cancel or a move cannot: a new booking has no outcome yet, and a booking with an
outcome can be neither cancelled nor moved. The nightly job re-applies the rules to
the open weeks (the last ``SUPPLEMENT_RECOMPUTE_DAYS``, for a change of configuration);
older weeks are closed, for the outcome path as for the job.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from flask import current_app
from sqlalchemy import and_, delete, func, select

from . import audit
from .core.database import write_transaction
from .core.extensions import db
from .core.fast_paths import insert_many
from .core.timeutil import check_days, month_end, paris_day_bounds, paris_today, to_paris, utcnow
from .models import Booking, Practitioner, Slot, SupplementAct, SupplementLine, members_of, practitioner_cpts


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
        return _paris_month(self.start_at)


@lru_cache(maxsize=64)
def _french_public_holidays(year: int) -> frozenset[date]:
    """The dates of the year's French public holidays (a frozenset: ``HolidayBase.__contains__`` is slow)."""
    return frozenset(holidays.France(years=year))


def is_pdsa(start_at: datetime, rules: Rules) -> bool:
    """Whether a slot starts during PDSA hours (out-of-hours duty), which the SNP supplement never pays."""
    local = to_paris(start_at)
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


def regulated_act(rules: Rules):
    """SQL condition of a regulated act (SPEC section 3): an active, honored booking of a regulated channel."""
    return and_(Booking.status == "booked", Booking.outcome == "honored", Booking.channel.in_(rules.channels))


def _load_acts(start: datetime, end: datetime, rules: Rules, practitioner_id: int | None = None) -> list[Act]:
    query = (
        select(Booking.id, Slot.practitioner_id, Slot.start_at, Booking.created_at, Booking.channel,
               Booking.by_treating_doctor)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(regulated_act(rules), Slot.start_at >= start, Slot.start_at < end)
    )
    if practitioner_id is not None:
        query = query.where(Slot.practitioner_id == practitioner_id)
    return [Act(*row) for row in db.session.execute(query)]


def accrue(actor: str = "job:accrue_supplements", today: date | None = None) -> dict:
    """Re-evaluate the acts of the open weeks and add the ledger lines that bring each act to its due amount.

    Acts older than ``SUPPLEMENT_RECOMPUTE_DAYS`` are closed: what was accrued for them stays.
    """
    return accrue_between(actor, _first_open_day(today or paris_today()), today or paris_today())


def _first_open_day(today: date) -> date:
    return today - timedelta(days=current_app.config["SUPPLEMENT_RECOMPUTE_DAYS"])


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
    return _reevaluate(actor, start, end)


def outcome_changed(actor, booking: Booking) -> dict | None:
    """Correct the ledger for a booking whose outcome was just set, inside the caller's transaction.

    The weekly cap ties a practitioner's acts of one ISO week together (an act honored late
    can push a later one over the cap), so the practitioner's whole week is evaluated again.
    A closed week (one the nightly job no longer recomputes) is left as it is.
    """
    slot = booking.slot
    start, end = _whole_weeks(slot.start_at, slot.start_at + timedelta(microseconds=1))
    if end <= paris_day_bounds(_first_open_day(paris_today()))[0]:
        return None
    db.session.flush()  # the act query reads the new outcome
    return _reevaluate(actor, start, end, practitioner_id=slot.practitioner_id)


def _reevaluate(actor, start: datetime, end: datetime, practitioner_id: int | None = None) -> dict:
    """New verdicts for the acts of [start, end) (whole weeks), and the ledger lines that follow from them."""
    rules = current_rules()
    now = utcnow()
    acts = evaluate(_load_acts(start, end, rules, practitioner_id), rules)
    stale = delete(SupplementAct).where(SupplementAct.start_at >= start, SupplementAct.start_at < end)
    if practitioner_id is not None:
        stale = stale.where(SupplementAct.practitioner_id == practitioner_id)
    db.session.execute(stale)
    # Straight to the driver (database.insert_many): a history import's 50,000 rows bring tens of
    # thousands of verdicts, and Core's per-value type processing was most of their cost.
    insert_many(SupplementAct.__table__, [_verdict_row(act, now) for act in acts])
    lines = _ledger_corrections(acts, start, end, rules, now, practitioner_id)
    insert_many(SupplementLine.__table__, lines)
    counts = {
        "acts": len(acts),
        "eligible": sum(act.eligible for act in acts),
        "accruals": sum(line["kind"] == "accrual" for line in lines),
        "reversals": sum(line["kind"] == "reversal" for line in lines),
        "net_cents": sum(line["amount_cents"] for line in lines),
    }
    scope = {} if practitioner_id is None else {"practitioner_id": practitioner_id}
    audit.record(actor, "supplement.accrue", SupplementLine.__tablename__,
                 after={"from": to_paris(start).date().isoformat(), **scope, **counts})
    return counts


def _verdict_row(act: Act, now: datetime) -> dict:
    return {"booking_id": act.booking_id, "practitioner_id": act.practitioner_id, "start_at": act.start_at,
            "month": act.month, "channel": act.channel, "eligible": act.eligible, "excluded_by": act.excluded_by,
            "evaluated_at": now}


def _paris_month(moment: datetime) -> str:
    return f"{to_paris(moment):%Y-%m}"


def _ledger_corrections(acts: list[Act], start: datetime, end: datetime, rules: Rules, now: datetime,
                        practitioner_id: int | None) -> list[dict]:
    """Lines bringing each booking's net ledger amount to what its verdict earns now (none when equal)."""
    ledger = (
        select(SupplementLine.booking_id, SupplementLine.practitioner_id, SupplementLine.month,
               func.sum(SupplementLine.amount_cents))
        .join(Booking, Booking.id == SupplementLine.booking_id)
        .join(Slot, Slot.id == Booking.slot_id)
        # A line's month is its slot's Paris month: the bound keeps the read to the window's months (an index),
        # not every line the ledger ever had, which grows every night.
        .where(SupplementLine.month.between(_paris_month(start), _paris_month(end - timedelta(microseconds=1))),
               Slot.start_at >= start, Slot.start_at < end)
        .group_by(SupplementLine.booking_id, SupplementLine.practitioner_id, SupplementLine.month)
    )
    if practitioner_id is not None:
        ledger = ledger.where(SupplementLine.practitioner_id == practitioner_id)
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


def statement(cpts_id: int, month: str, *, practitioner_id: int | None = None, detail: bool = False) -> dict:
    """The month's statement (``YYYY-MM``) of a CPTS."""
    first = date.fromisoformat(f"{month}-01")
    last = month_end(first.year, first.month)
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
    check_days(**{"from": first, "to": last})
    lo, hi = paris_day_bounds(first)[0], paris_day_bounds(last)[1]
    members = members_of([cpts_id])
    if practitioner_id is not None:
        members = members.where(practitioner_cpts.c.practitioner_id == practitioner_id)
    verdicts = db.session.scalars(
        select(SupplementAct).where(SupplementAct.practitioner_id.in_(members),
                                    SupplementAct.start_at >= lo, SupplementAct.start_at < hi)
        .order_by(SupplementAct.start_at, SupplementAct.booking_id)
    ).all()
    amounts = _ledger_by_practitioner(members, first, last)
    acts_of = defaultdict(list)
    for verdict in verdicts:
        acts_of[verdict.practitioner_id].append(verdict)
    practitioners = db.session.scalars(
        select(Practitioner).where(Practitioner.id.in_(acts_of.keys() | amounts.keys()))
        .order_by(Practitioner.last_name, Practitioner.first_name, Practitioner.id)
    ).all()
    lines = [_statement_line(p, acts_of[p.id], amounts.get(p.id, 0), detail) for p in practitioners]
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


def ledger_cents(cpts_ids: list[int], first: date, last: date) -> int:
    """The supplement of the CPTS's acts whose slot starts in the Paris days ``first``..``last``: the
    statement's total (a practitioner of several of these CPTS counts once)."""
    return sum(_ledger_by_practitioner(members_of(cpts_ids), first, last).values())


def _ledger_by_practitioner(members, first: date, last: date) -> dict[int, int]:
    """Net ledger amount per practitioner of ``members`` for the acts whose slot starts in the Paris days
    ``first``..``last``. A line's month is its slot's Paris month: bounding it lets the (practitioner, month)
    index read the period's lines only, not every line the practitioners ever had."""
    lo, hi = paris_day_bounds(first)[0], paris_day_bounds(last)[1]
    rows = db.session.execute(
        select(SupplementLine.practitioner_id, func.sum(SupplementLine.amount_cents))
        .join(Booking, Booking.id == SupplementLine.booking_id).join(Slot, Slot.id == Booking.slot_id)
        .where(SupplementLine.practitioner_id.in_(members),
               SupplementLine.month.between(f"{first:%Y-%m}", f"{last:%Y-%m}"),
               Slot.start_at >= lo, Slot.start_at < hi)
        .group_by(SupplementLine.practitioner_id))
    return {practitioner_id: int(amount) for practitioner_id, amount in rows}
