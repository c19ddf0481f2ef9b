"""Property tests of ``snp_service.recurrence`` (issue 28): generated RRULEs.

1. Every rule ``parse`` accepts is expanded exactly as dateutil expands it (the service's series and
   imports published dateutil's occurrences before; they still do).
2. Any text at all, hostile parts included (``INTERVAL=0``, ``BYSETPOS=-366``, February 30, far UNTILs,
   huge COUNTs), is either refused by ``parse`` or expanded within the budget of days it is given: the walk
   is bounded by the budget and the end, never by the rule.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from snp_service.slots import recurrence

from .cost_guard import bounded
from .rrule_strategies import hostile_parts

WEEKDAYS = recurrence.WEEKDAYS


def _joined(values) -> str:
    return ",".join(str(v) for v in values)


@st.composite
def dense_rules(draw) -> str:
    """Rules as agendas write them: a frequency, an interval, some BY parts, and a COUNT."""
    freq = draw(st.sampled_from(recurrence.FREQUENCIES))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    if draw(st.integers(0, 3)) == 0:
        parts.append("BYMONTH=" + _joined(draw(st.sets(st.integers(1, 12), min_size=1, max_size=6))))
    day_kind = draw(st.sampled_from(["none", "plain", "nth", "monthday", "both"]))
    if day_kind in ("plain", "both"):
        parts.append("BYDAY=" + _joined(draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=4))))
    if day_kind == "nth" and freq in ("MONTHLY", "YEARLY"):
        ordinals = st.integers(-5, 5).filter(bool) if freq == "MONTHLY" else st.integers(-20, 20).filter(bool)
        parts.append("BYDAY=" + _joined(f"{n}{d}" for n, d in draw(
            st.sets(st.tuples(ordinals, st.sampled_from(WEEKDAYS)), min_size=1, max_size=3))))
    if day_kind in ("monthday", "both") and freq != "WEEKLY":
        parts.append("BYMONTHDAY=" + _joined(draw(st.sets(st.integers(-31, 31).filter(bool), min_size=1, max_size=5))))
    if draw(st.booleans()):
        parts.append("BYSETPOS=" + _joined(draw(st.sets(st.integers(-3, 3).filter(bool), min_size=1, max_size=2))))
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(WEEKDAYS))}")
    parts.append(f"COUNT={draw(st.integers(1, 12))}")
    return ";".join(draw(st.permutations(parts)))


starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(text=dense_rules(), start=starts)
# dateutil's own readings, kept: a WEEKLY rule's first week starts on DTSTART's day (BYSETPOS counts from
# there); an ordinal BYDAY counts within the month (MONTHLY, YEARLY with BYMONTH) or the year.
@example(text="FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=1;COUNT=3", start=datetime(2026, 5, 6, 17))
@example(text="FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", start=datetime(2026, 5, 6, 17))
@example(text="FREQ=YEARLY;BYDAY=20MO;COUNT=3", start=datetime(2026, 5, 6, 17))
@example(text="FREQ=YEARLY;BYMONTH=2,3;BYDAY=-1SU;COUNT=3", start=datetime(2026, 5, 6, 17))
@example(text="FREQ=MONTHLY;BYMONTHDAY=-1,15;BYSETPOS=-1;COUNT=4", start=datetime(2026, 1, 31, 9))
@example(text="FREQ=YEARLY;COUNT=3", start=datetime(2028, 2, 29, 9))
def test_accepted_rules_expand_as_dateutil_expands_them(text, start):
    try:
        rule = recurrence.parse(text)
    except recurrence.RuleError:
        assume(False)
    ours = recurrence.expand(rule, start, start + timedelta(days=6 * 366), limit=1000, budget=10 ** 6).starts
    # Compared only where dateutil is sure to stop soon: when all COUNT occurrences lie in our window.
    assume(len(ours) == rule.count)
    assert ours == list(rrulestr(text, dtstart=start))


@settings(max_examples=250, deadline=None)
@given(parts=st.lists(hostile_parts, min_size=1, max_size=7), start=starts)
def test_any_rule_is_refused_or_expanded_within_its_budget(parts, start):
    text = ";".join(parts)
    with bounded(seconds=2):
        try:
            rule = recurrence.parse(text)
        except recurrence.RuleError as error:
            assert error.message and error.reason
            return
        budget = 2_000
        try:
            found = recurrence.expand(rule, start, start + timedelta(days=400), limit=500, budget=budget)
        except recurrence.TooCostly:
            return
        assert found.examined <= budget
        assert all(start <= moment <= start + timedelta(days=400) for moment in found.starts)
        assert found.starts == sorted(set(found.starts))
