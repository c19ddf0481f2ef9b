"""Hypothesis strategies of RRULE parts, hostile ones included, shared by the recurrence and API property tests."""
from __future__ import annotations

from hypothesis import strategies as st

from snp_service.slots.recurrence import WEEKDAYS


def _part(name: str, values) -> st.SearchStrategy[str]:
    return values.map(lambda value: f"{name}={value}")


numbers = st.one_of(st.integers(-400, 400), st.integers(-10 ** 12, 10 ** 12)).map(str)
number_lists = st.lists(numbers, min_size=1, max_size=4).map(",".join)
hostile_parts = st.one_of(
    _part("FREQ", st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "SECONDLY", "", "daily"])),
    _part("INTERVAL", numbers),
    _part("COUNT", numbers),
    _part("UNTIL", st.sampled_from(["00010101", "99991231", "20270201", "20270201T000000Z", "2027", "21991231T235959"])),
    _part("BYMONTH", number_lists),
    _part("BYMONTHDAY", number_lists),
    _part("BYSETPOS", number_lists),
    _part("BYYEARDAY", number_lists),
    _part("BYHOUR", number_lists),
    _part("BYDAY", st.lists(st.tuples(st.sampled_from(["", "1", "-1", "5", "-5", "53", "99", "+2"]),
                                      st.sampled_from(WEEKDAYS + ("XX",))).map("".join), min_size=1, max_size=4)
          .map(",".join)),
    _part("WKST", st.sampled_from(WEEKDAYS + ("XX",))),
    st.text(max_size=12),
)
