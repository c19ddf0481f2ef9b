"""Statements of the majoration SNP: per practitioner of a CPTS, for a month or a season, from the ledger.

The ledger is the one truth for the money: the statement, the reports and the indicators all add up its
lines (``ledger_cents``); the verdicts say why an act earned nothing.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from ..core.extensions import db
from ..core.timeutil import check_days, month_end, paris_day_bounds, to_paris
from ..models import Booking, Practitioner, Slot, SupplementAct, SupplementLine, members_of, practitioner_cpts


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
