"""The ledger of the majoration SNP: append-only lines that bring each act to the amount its verdict earns.

When a verdict changes after accrual (a late cancellation, an outcome corrected) a reversal line is added,
never an edit of a past line. The ledger is kept exact by evaluating again, in the same transaction, the
week of every change that can alter an act: an outcome recorded or corrected (``outcome_changed``) and a
history import (``record_accruals``). A booking, a cancel or a move cannot: a new booking has no outcome
yet, and a booking with an outcome can be neither cancelled nor moved. The nightly job re-applies the
rules to the open weeks (the last ``SUPPLEMENT_RECOMPUTE_DAYS``, for a change of configuration); older
weeks are closed, for the outcome path as for the job.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from .. import audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.fast_paths import insert_many
from ..core.timeutil import paris_day_bounds, paris_today, to_paris, utcnow
from ..models import Booking, Practitioner, Slot, SupplementAct, SupplementLine
from .rules import Act, Rules, booked_at, current_rules, evaluate, paris_month, regulated_act


def _whole_weeks(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Widen [start, end) to whole Europe/Paris ISO weeks."""
    first = to_paris(start).date()
    last = to_paris(end - timedelta(microseconds=1)).date()
    first -= timedelta(days=first.weekday())
    last += timedelta(days=6 - last.weekday())
    return paris_day_bounds(first)[0], paris_day_bounds(last)[1]


def _load_acts(start: datetime, end: datetime, rules: Rules, practitioner_id: int | None = None) -> list[Act]:
    query = (
        select(Booking.id, Slot.practitioner_id, Slot.start_at, booked_at(), Booking.channel,
               Booking.by_treating_doctor)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Practitioner, Practitioner.id == Slot.practitioner_id)
        # Only the professions the supplement is for are acts at all (another's booking earns nothing).
        .where(regulated_act(rules), Practitioner.profession.in_(rules.professions),
               Slot.start_at >= start, Slot.start_at < end)
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
        .where(SupplementLine.month.between(paris_month(start), paris_month(end - timedelta(microseconds=1))),
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
