""".ics import of files written by Google Calendar, Outlook and Thunderbird; hostile files refused whole."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from snp_service.core.errors import Invalid
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, UTC
from snp_service.models import Slot
from snp_service.slots import calendar_import

FIXTURES = Path(__file__).parent / "fixtures" / "ics"
NOW = datetime(2027, 3, 10, tzinfo=UTC)


def run(user, name_or_bytes, slot_minutes: int = 15):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FIXTURES / name_or_bytes).read_bytes()
    return calendar_import.import_calendar(user, user.practitioner, data, slot_minutes, now=NOW)


def local(slot) -> str:
    return slot.start_at.astimezone(PARIS).strftime("%m-%d %H:%M")


def slot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


@pytest.fixture
def gp(world):
    return world.gp(world.cpts())


def test_google_export_weekly_series_with_exdate_across_dst(gp):
    result = run(gp, "google.ics")
    tuesdays = sorted({local(s)[:5] for s in result.slots if local(s).endswith("17:00")})
    # Every Tuesday 17:00-18:00 until 13 April, 30 March excluded; the 28 March change keeps 17:00.
    assert tuesdays == ["03-16", "03-23", "04-06", "04-13"]
    assert [local(s) for s in result.slots if local(s).startswith("03-18")] == [
        "03-18 14:00", "03-18 14:15", "03-18 14:30", "03-18 14:45"]  # a UTC (Z) event
    assert result.created == 20
    reasons = {entry["uid"].split("@")[0]: entry["reason"] for entry in result.skipped}
    assert reasons == {"2d4h2tq0pq8q3r1r6h1b3o6kdl": "all_day", "5a9p7c1r0e2o8l4t6n3m1k9j8h": "past"}


def test_skipped_entries_never_echo_the_event_summary(gp):
    result = run(gp, "google.ics")
    assert "Dupont" not in repr(result.skipped)
    assert set(result.skipped[0]) == {"uid", "start", "reason", "message"}


def test_outlook_export_with_windows_zone_count_and_exdate(gp):
    result = run(gp, "outlook.ics", slot_minutes=30)
    days = sorted({local(s)[:5] for s in result.slots})
    assert days == ["03-15", "03-22", "03-24"]  # Mondays and Wednesdays, COUNT=4, 17 March excluded
    assert [local(s)[6:] for s in result.slots if local(s).startswith("03-15")] == ["14:00", "14:30", "15:00", "15:30"]
    assert [entry["reason"] for entry in result.skipped] == ["all_day"]


def test_thunderbird_export_duration_floating_time_cancelled_and_overlap(gp):
    result = run(gp, "thunderbird.ics")
    assert [local(s) for s in result.slots] == ["03-19 11:00", "03-19 11:15", "03-19 11:30",
                                                "03-22 15:00", "03-22 15:15"]
    reasons = sorted(entry["reason"] for entry in result.skipped)
    assert reasons == ["all_day", "cancelled", "overlap"]


def test_event_shorter_than_the_slot_duration_becomes_one_slot(gp):
    result = run(gp, "thunderbird.ics", slot_minutes=60)
    assert [local(s) for s in result.slots] == ["03-19 11:00", "03-22 15:00"]
    assert [(s.end_at - s.start_at).seconds // 60 for s in result.slots] == [45, 30]


def test_overlapping_and_past_occurrences_are_skipped_not_fatal(gp, world):
    world.slot(gp.practitioner, datetime(2027, 3, 16, 17, 30, tzinfo=PARIS))
    result = run(gp, "google.ics")
    assert result.created == 19
    overlap = [entry for entry in result.skipped if entry["reason"] == "overlap"]
    assert overlap[0]["start"] == "2027-03-16T17:30:00+01:00"


def test_import_is_audited_once(gp):
    from snp_service.models import AuditEvent

    result = run(gp, "google.ics")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slot.import"))
    assert event.after["count"] == result.created and event.after["skipped"] == 2


ICS_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
    (b"hello world", "not an iCalendar file"),
    ((ICS_HEAD + "BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode(), "no DTSTART"),
    ((ICS_HEAD + "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270320T100000Z\r\nDTEND:20270320T100001Z\r\n"
      "RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode(), "finer than daily"),
    ((ICS_HEAD + "END:VCALENDAR\r\n").encode(), "no VEVENT"),
])
def test_malformed_or_hostile_files_are_422_and_create_nothing(gp, data, reason):
    with pytest.raises(Invalid) as error:
        run(gp, data)
    assert error.value.status == 422 and reason in error.value.fields["file"][0]
    assert slot_count() == 0


@pytest.mark.parametrize("count, rule, refusal", [
    # Without COUNT an old rule costs its window only: a thousand of them hold too many occurrences.
    (1000, "FREQ=DAILY", "Trop d'occurrences"),
    # With COUNT each is walked from 1970: the file's budget of days is spent long before today.
    (10, "FREQ=DAILY;COUNT=30000", "trop nombreuses"),
])
def test_old_daily_recurrences_are_refused_fast(gp, count, rule, refusal):
    events = "".join(f"BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTART:19700101T10{i % 60:02d}00Z\r\nDURATION:PT1M\r\n"
                     f"RRULE:{rule}\r\nEND:VEVENT\r\n" for i in range(count))
    with pytest.raises(Invalid, match=refusal):
        run(gp, (ICS_HEAD + events + "END:VCALENDAR\r\n").encode())


def test_file_size_limit(gp):
    with pytest.raises(Invalid) as error:
        run(gp, (ICS_HEAD + "X-PAD:" + "a" * calendar_import.MAX_ICS_BYTES).encode())
    assert error.value.code == "file_too_large"


def test_slot_duration_outside_the_limits_is_422(gp):
    with pytest.raises(Invalid):
        run(gp, "google.ics", slot_minutes=200)


@pytest.mark.parametrize("wall, reason", [("20270328T023000", "nonexistent_local_time"),
                                           ("20271031T023000", "ambiguous_local_time")])
@pytest.mark.parametrize("tzid", ["Europe/Paris", None])
def test_dst_gap_or_fold_in_an_import_is_reported_never_shifted(gp, app, wall, reason, tzid):
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    start = f"DTSTART;TZID={tzid}:{wall}" if tzid else f"DTSTART:{wall}"
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:dst@test\r\n"
           f"{start}\r\nDURATION:PT30M\r\nSUMMARY:SNP\r\nEND:VEVENT\r\n"
           "BEGIN:VEVENT\r\nUID:ok@test\r\nDTSTART;TZID=Europe/Paris:20270330T140000\r\nDURATION:PT15M\r\n"
           "SUMMARY:SNP\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    result = run(gp, ics)
    assert [local(s) for s in result.slots] == ["03-30 14:00"]
    assert [(entry["uid"], entry["reason"]) for entry in result.skipped] == [("dst@test", reason)]
