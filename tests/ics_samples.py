"""iCalendar bodies shared by the cost-bound tests and the refused-requests benchmark."""
from __future__ import annotations

from datetime import timedelta

from snp_service.core.timeutil import utcnow

ICS_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"


def long_events_ics(count: int = 100, days: int = 118) -> bytes:
    """``count`` events of ``days`` days each, starting tomorrow a minute apart: an import far over the cap."""
    start = utcnow() + timedelta(days=1)
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:long-{i}\r\nDTSTART:{start + timedelta(minutes=i):%Y%m%dT%H%M00Z}\r\n"
        f"DTEND:{start + timedelta(days=days, minutes=i):%Y%m%dT%H%M00Z}\r\nSUMMARY:Garde\r\nEND:VEVENT\r\n"
        for i in range(count))
    return (ICS_HEAD + events + "END:VCALENDAR\r\n").encode()
