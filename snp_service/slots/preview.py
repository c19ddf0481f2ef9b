"""The dry run of a publish: the slots a request would create, by the publishing rules, without writing.

The GP page's preview asks this, so the count it shows is the count a publish creates; where
daylight saving makes a day's real length differ from its wall-clock times, it says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..core.timeutil import PARIS, utcnow
from ..models import Practitioner
from .publishing import Interval, Rules, check_intervals, clashing_days, intervals_for, refuse_clashes, without_days


@dataclass(frozen=True)
class Plan:
    """The slots a request would create, and why a day differs from what its wall-clock times suggest."""

    intervals: list[Interval]
    notes: list[str]
    # With ``plan_around``: the Paris days left out because they already hold an overlapping slot.
    clashing_days: list[date] = field(default_factory=list)


def plan_request(practitioner: Practitioner, request: dict, now: datetime | None = None) -> Plan:
    """What ``publish_request`` would create, by the same rules, without writing (the GP page's preview).

    Same expansion, same checks, same overlap test: the preview's count is the publish's count,
    unless someone publishes in between (then the publish says so).
    """
    rules = Rules.from_config()
    intervals = intervals_for(request, rules)
    check_intervals(intervals, rules, now or utcnow())
    refuse_clashes(practitioner, intervals)
    return Plan(intervals, daylight_saving_notes(intervals))


def plan_around(practitioner: Practitioner, request: dict, now: datetime | None = None) -> Plan:
    """What ``publishing.publish_around`` would create (a block or a series, the occupied days left out), and
    which days clash: the preview of "Publier sans les jours déjà occupés"."""
    rules = Rules.from_config()
    intervals = intervals_for(request, rules)
    check_intervals(intervals, rules, now or utcnow())
    days = clashing_days(practitioner, intervals)
    kept = without_days(intervals, days)
    return Plan(kept, daylight_saving_notes(kept), days)


def daylight_saving_notes(intervals: list[Interval]) -> list[str]:
    """A French note for each run of consecutive slots whose wall-clock span is not its real length.

    A block 01:00-04:00 on the last Sunday of March lasts 2 real hours (8 slots of 15 min, not 12);
    the same block in October lasts 4. Slots are cut on real time, so people must be told.
    """
    notes = []
    for run in _runs(sorted(intervals)):
        start, end = run[0].start.astimezone(PARIS), run[-1].end.astimezone(PARIS)
        wall = end.replace(tzinfo=None) - start.replace(tzinfo=None)
        real = run[-1].end - run[0].start
        if wall == real:
            continue
        change = "passage à l'heure d'été" if real < wall else "passage à l'heure d'hiver"
        step = run[0].end - run[0].start
        expected = int(wall / step)
        count = f"soit {len(run)} créneaux au lieu de {expected}" if expected != len(run) else f"{len(run)} créneaux"
        notes.append(f"Le {start:%d/%m}, {change} : de {start:%H:%M} à {end:%H:%M} il s'écoule "
                     f"{_duration(real)} et non {_duration(wall)}, {count}.")
    return notes


def _runs(intervals: list[Interval]) -> list[list[Interval]]:
    runs: list[list[Interval]] = []
    for interval in intervals:
        if runs and runs[-1][-1].end == interval.start:
            runs[-1].append(interval)
        else:
            runs.append([interval])
    return runs


def _duration(span: timedelta) -> str:
    hours, minutes = divmod(int(span.total_seconds() // 60), 60)
    return f"{hours} h" + (f" {minutes:02d}" if minutes else "") if hours else f"{minutes} min"
