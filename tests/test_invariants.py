"""Invariants the database itself holds, whatever code path writes (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from snp_service.core.database import constraint_name
from snp_service.core.errors import Invalid
from snp_service.core.extensions import db
from snp_service.core.timeutil import UTC, paris_to_utc
from snp_service.models import Booking, Slot


def _insert(obj):
    db.session.add(obj)
    db.session.commit()


def test_second_active_booking_of_a_slot_is_refused_by_the_database(world):
    cpts = world.cpts()
    slot = world.slot(world.practitioner(cpts))
    world.booking(slot)
    # Bypass the booking service entirely: a raw second active booking.
    with pytest.raises(IntegrityError) as caught:
        _insert(Booking(slot_id=slot.id, channel="116117", status="booked"))
    db.session.rollback()
    assert "uq_booking_active_slot" in constraint_name(caught.value) or "booking.slot_id" in str(caught.value.orig)
    assert db.session.scalar(text("SELECT count(*) FROM booking WHERE slot_id = :s"), {"s": slot.id}) == 1


def test_a_cancelled_booking_frees_the_unique_index(world):
    slot = world.slot(world.practitioner(world.cpts()))
    first = world.booking(slot)
    first.status = "cancelled"
    db.session.commit()
    _insert(Booking(slot_id=slot.id, channel="sas", status="booked"))
    assert db.session.scalar(text("SELECT count(*) FROM booking WHERE slot_id = :s"), {"s": slot.id}) == 2


@pytest.mark.parametrize("offset_minutes", [0, 10, -10])
def test_overlapping_slots_of_one_practitioner_are_refused(world, offset_minutes):
    practitioner = world.practitioner(world.cpts())
    start = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)
    world.slot(practitioner, start, minutes=15)
    clash = start + timedelta(minutes=offset_minutes)
    with pytest.raises(IntegrityError) as caught:
        _insert(Slot(practitioner_id=practitioner.id, start_at=clash, end_at=clash + timedelta(minutes=15)))
    db.session.rollback()
    assert "ex_slot_no_overlap" in constraint_name(caught.value)


def test_overlap_rule_ignores_withdrawn_slots_and_other_practitioners(world):
    cpts = world.cpts()
    first, second = world.practitioner(cpts), world.practitioner(cpts)
    start = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)
    old = world.slot(first, start, status="withdrawn")
    world.slot(first, start)  # republishing over a withdrawn slot is fine
    world.slot(second, start)  # another GP at the same time is fine
    world.slot(first, start + timedelta(minutes=15))  # back-to-back slots do not overlap
    old.status = "free"  # but bringing the withdrawn one back would overlap
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("start, end, refused", [
    ("09:10", "09:20", True),    # the first slot's tail
    ("09:10", "09:35", True),    # across both
    ("08:00", "12:00", True),    # around both
    ("09:15", "09:30", False),   # exactly between them
    ("09:20", "09:25", False),   # in the gap, over the withdrawn one
    ("09:44", "10:00", True),    # the last one's tail
    ("09:45", "10:00", False),   # right after the last one
    ("08:50", "09:00", False),   # right before the first one
])
def test_overlaps_are_refused_whatever_the_neighbourhood(world, start, end, refused):
    """The database's own check (SQLite trigger, PostgreSQL exclusion constraint) near several slots:
    the SQLite trigger probes one neighbour only, which must always be the one that decides."""
    practitioner = world.practitioner(world.cpts())
    at = lambda hhmm: datetime(2030, 1, 7, *map(int, hhmm.split(":")), tzinfo=UTC)  # noqa: E731
    world.slot(practitioner, at("09:00"), minutes=15)
    world.slot(practitioner, at("09:20"), minutes=5, status="withdrawn")
    world.slot(practitioner, at("09:30"), minutes=15, status="booked")
    moved = world.slot(practitioner, at("11:00"), minutes=15)

    new = Slot(practitioner_id=practitioner.id, start_at=at(start), end_at=at(end))
    if refused:
        with pytest.raises(IntegrityError):
            _insert(new)
        db.session.rollback()
    else:
        _insert(new)
        db.session.delete(new)
        db.session.commit()
    moved.start_at, moved.end_at = at(start), at(end)  # an update is checked the same way
    if refused:
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    else:
        db.session.commit()


def test_slot_must_end_after_it_starts(world):
    practitioner = world.practitioner(world.cpts())
    start = datetime(2030, 1, 7, 14, 0, tzinfo=UTC)
    with pytest.raises(IntegrityError):
        _insert(Slot(practitioner_id=practitioner.id, start_at=start, end_at=start))
    db.session.rollback()


def test_times_come_back_aware_in_utc(world):
    practitioner = world.practitioner(world.cpts())
    paris_noon = paris_to_utc(datetime(2027, 7, 14, 12, 0))
    slot = world.slot(practitioner, paris_noon)
    db.session.expire_all()
    reloaded = db.session.get(Slot, slot.id)
    assert reloaded.start_at.tzinfo is not None
    assert reloaded.start_at == datetime(2027, 7, 14, 10, 0, tzinfo=UTC)


def test_paris_local_times_on_daylight_saving_days(ctx):
    assert paris_to_utc(datetime(2027, 3, 28, 1, 30)) == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert paris_to_utc(datetime(2027, 3, 28, 3, 30)) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    with pytest.raises(Invalid) as gap:
        paris_to_utc(datetime(2027, 3, 28, 2, 30))
    assert gap.value.code == "nonexistent_local_time"
    with pytest.raises(Invalid) as fold:
        paris_to_utc(datetime(2027, 10, 31, 2, 30))
    assert fold.value.code == "ambiguous_local_time"
    assert paris_to_utc(datetime(2027, 10, 31, 3, 30)) == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
