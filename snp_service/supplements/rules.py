"""The rules of the majoration SNP: which regulated act earns it, and why another does not.

The rules are configuration (``SUPPLEMENT_RULES``); the defaults follow the NGAP art. 14.1.3 (May 2023,
SPEC section 3). An act is a booking that is active, honored and came through a regulated channel
(``regulated_act``: every report counts regulated acts by it). Each act gets a verdict (``evaluate``):
eligible, or the first rule that excluded it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from flask import current_app
from sqlalchemy import and_, func

from ..core.timeutil import to_paris
from ..models import Booking, BookingStatus, Outcome


@dataclass(frozen=True)
class Rules:
    amount_cents: int
    channels: tuple[str, ...]
    max_delay: timedelta
    weekly_cap: int
    weeknight_from: time
    weeknight_until: time
    saturday_from: time
    professions: tuple[str, ...] = ("gp",)

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
            professions=tuple(settings.get("professions", ("gp",))),
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
        return paris_month(self.start_at)


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


def regulated_act(rules: Rules):
    """SQL condition of a regulated act (SPEC section 3): an active, honored booking of a regulated channel."""
    return and_(Booking.status == BookingStatus.BOOKED, Booking.outcome == Outcome.HONORED, Booking.channel.in_(rules.channels))


def booked_at():
    """SQL value of when an act was booked, for the 48-hour rule: the first booking of its chain of moves
    (``Booking.first_booked_at``), else its own creation. A move must not restart the clock: that would
    turn an act booked too early into one that earns the supplement."""
    return func.coalesce(Booking.first_booked_at, Booking.created_at)


def paris_month(moment: datetime) -> str:
    return f"{to_paris(moment):%Y-%m}"
