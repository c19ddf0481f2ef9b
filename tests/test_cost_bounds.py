"""Issue 15, item 2: the cost of a request is bounded before the work starts (SPEC section 8).

A block to 2199 in 1-minute slots (90 million slots) took 70 s and 3.9 GB before the 2,000-slot
cap was checked; a 10 KB .ics of 100 events of 118 days at 5 minutes took 49 s and 2 GB. Both are
now counted arithmetically and refused with a 422 before a single interval is built: the tests
count the intervals built (none), not the time taken.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, to_paris, utcnow
from snp_service.models import Booking, Slot
from snp_service.slots import calendar_import, publishing

from .ics_samples import ICS_HEAD, long_events_ics

API = "/api/v1"


@pytest.fixture
def gp(world):
    return world.gp(world.cpts())


@pytest.fixture
def built(monkeypatch):
    """Counts the intervals built by publishing and the .ics import."""
    counter = {"intervals": 0}
    real = publishing.Interval

    def counting(*args, **kwargs):
        counter["intervals"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(publishing, "Interval", counting)
    monkeypatch.setattr(calendar_import, "Interval", counting)
    return counter


def _slots() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


def _refused(response, code="too_many_slots"):
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error


def test_block_to_2199_in_one_minute_slots_is_refused_before_any_interval(client, world, gp, built):
    tomorrow = to_paris(utcnow() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    body = {"block": {"start": tomorrow.isoformat(), "end": tomorrow.replace(year=2199).isoformat(),
                      "slot_minutes": 1}}
    error = _refused(client.post(f"{API}/slots", json=body, headers=world.headers(gp)))
    assert "2000" in error["message"]
    assert built["intervals"] == 0
    assert _slots() == 0


def test_a_block_at_the_cap_is_published(client, world, gp, app):
    app.config["MAX_SLOTS_PER_REQUEST"] = 12
    start = to_paris(utcnow() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    body = {"block": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(), "slot_minutes": 5}}
    assert client.post(f"{API}/slots", json=body, headers=world.headers(gp)).status_code == 201
    body["block"] = {"start": (start + timedelta(hours=2)).isoformat(),
                     "end": (start + timedelta(hours=3, minutes=5)).isoformat(), "slot_minutes": 5}
    _refused(client.post(f"{API}/slots", json=body, headers=world.headers(gp)))
    assert _slots() == 12


def _series(rrule: str, block_minutes: int = 60):
    first = to_paris(utcnow() + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
    return {"series": {"first_start": first.replace(tzinfo=None).isoformat(), "block_minutes": block_minutes,
                       "slot_minutes": 5, "rrule": rrule}}


@pytest.mark.parametrize("rrule, code", [
    ("FREQ=DAILY;COUNT=999999999", "too_many_slots"),          # COUNT x 12 slots: refused before expanding
    ("FREQ=DAILY;UNTIL=21991231", "beyond_horizon"),            # refused before expanding
    ("FREQ=DAILY;COUNT=5;BYMONTH=2;BYMONTHDAY=30", "invalid_rrule"),  # never matches (dateutil walked to 9999)
    ("FREQ=DAILY;UNTIL=21991231;BYMONTH=2;BYMONTHDAY=30", "invalid_rrule"),
    ("FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8,9,10;COUNT=3", "invalid_rrule"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20991231", "invalid_rrule"),     # RFC 5545: one or the other
])
def test_series_are_bounded_before_expansion(client, world, gp, built, rrule, code):
    _refused(client.post(f"{API}/slots", json=_series(rrule), headers=world.headers(gp)), code)
    assert built["intervals"] == 0
    assert _slots() == 0


def test_a_series_over_the_cap_is_refused_before_its_blocks_are_split(client, world, gp, built):
    # 118 daily blocks of 24 slots = 2,832 slots: the occurrences are counted, the blocks never split.
    until = f"{utcnow() + timedelta(days=119):%Y%m%d}"
    _refused(client.post(f"{API}/slots", json=_series(f"FREQ=DAILY;UNTIL={until}", block_minutes=120),
                         headers=world.headers(gp)))
    assert built["intervals"] == 0


def test_a_batch_over_the_cap_is_refused(client, world, gp, app):
    app.config["MAX_SLOTS_PER_REQUEST"] = 3
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    batch = [{"start": (start + timedelta(hours=i)).isoformat(), "end": (start + timedelta(hours=i, minutes=15)).isoformat()}
             for i in range(4)]
    _refused(client.post(f"{API}/slots", json={"slots": batch}, headers=world.headers(gp)))
    assert _slots() == 0


def test_ics_of_100_events_of_118_days_at_5_minutes_is_refused_before_any_interval(client, world, gp, built):
    data = long_events_ics(100, 118)
    assert len(data) < 12_000  # the 10 KB file of the report
    response = client.post(f"{API}/slots/import?slot_minutes=5", data=data, content_type="text/calendar",
                           headers=world.headers(gp))
    _refused(response)
    assert built["intervals"] == 0
    assert _slots() == 0


def test_ics_long_event_parts_outside_the_window_are_reported_once(gp, app):
    """An event begun yesterday and ending past the horizon: its slots inside the window, one entry per side."""
    now = utcnow().replace(second=0, microsecond=0)
    app.config["PUBLISH_HORIZON_DAYS"] = 2
    data = (ICS_HEAD + f"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:{now - timedelta(days=1):%Y%m%dT%H%M00Z}\r\n"
            f"DTEND:{now + timedelta(days=5):%Y%m%dT%H%M00Z}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    result = calendar_import.import_calendar(gp, gp.practitioner, data, 60, now=now)
    assert result.created == 49  # now .. now + 48 h inclusive, hourly
    assert sorted(entry["reason"] for entry in result.skipped) == ["beyond_horizon", "past"]
    assert min(s.start_at for s in result.slots) == now


def test_ics_with_too_many_occurrences_in_the_window_is_refused_before_expansion(client, world, gp, monkeypatch):
    expanded = []
    monkeypatch.setattr(calendar_import.recurring_ical_events, "of", lambda *a, **k: expanded.append(1))
    start = utcnow() + timedelta(days=1)
    events = "".join(f"BEGIN:VEVENT\r\nUID:d{i}\r\nDTSTART:{start + timedelta(minutes=i):%Y%m%dT%H%M00Z}\r\n"
                     "DURATION:PT5M\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n" for i in range(200))
    data = (ICS_HEAD + events + "END:VCALENDAR\r\n").encode()
    _refused(client.post(f"{API}/slots/import?slot_minutes=5", data=data, content_type="text/calendar",
                         headers=world.headers(gp)))
    assert expanded == []
    assert _slots() == 0


CSV_HEADER = "rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor\r\n"


@pytest.mark.parametrize("row, problem", [
    ('"' + "x" * 140_000 + '",2020-07-13T09:00:00+02:00,2020-07-13T09:15:00+02:00,office,0,0,,,,\r\n', "field"),
    ("12345678901,2020-07-13T09:00:00+02:00" + "x" * 200 + ",2020-07-13T09:15:00+02:00,office,0,0,,,,\r\n",
     "longer than"),
    ('"unclosed,2020-07-13T09:00:00+02:00,2020-07-13T09:15:00+02:00,office,0,0,,,,\r\n' + "a" * 140_000, "field"),
    ("12345678901\x00,2020-07-13T09:00:00+02:00,2020-07-13T09:15:00+02:00,office,0,0,,,,\r\n", "NUL"),
])
def test_history_csv_with_oversized_fields_or_nul_is_422(client, world, row, problem):
    cpts = world.cpts()
    coordinator = world.user("coordinator", cpts)
    response = client.post(f"{API}/imports/history?cpts_id={cpts.id}", data=(CSV_HEADER + row).encode(),
                           content_type="text/csv", headers=world.headers(coordinator))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert problem in str(response.get_json()["error"])
    assert _slots() == 0 and db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_series_with_a_valid_count_still_publishes(client, world, gp):
    response = client.post(f"{API}/slots", json=_series("FREQ=WEEKLY;COUNT=3"), headers=world.headers(gp))
    assert response.status_code == 201, response.get_json()
    starts = sorted(datetime.fromisoformat(s["start"]) for s in response.get_json()["slots"])
    assert len(starts) == 36
    assert {start.astimezone(PARIS).strftime("%H:%M") for start in starts[::12]} == {"17:00"}
