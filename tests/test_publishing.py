"""Publishing service: blocks and series in Paris time, every rule, all or nothing, withdrawal."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from snp_service.core.errors import Conflict, Invalid
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, UTC
from snp_service.models import AuditEvent, Slot
from snp_service.slots import publishing

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def slot_count(practitioner) -> int:
    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.practitioner_id == practitioner.id))


def local_starts(slots) -> list[str]:
    return [s.start_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") for s in slots]


@pytest.fixture
def gp(world):
    return world.gp(world.cpts())


def test_block_is_split_into_consecutive_slots(gp):
    slots = publishing.publish_request(gp, gp.practitioner, {"block": {
        "start": paris(2027, 3, 2, 14), "end": paris(2027, 3, 2, 16), "slot_minutes": 15}}, now=NOW)
    assert len(slots) == 8
    assert local_starts(slots)[0] == "2027-03-02 14:00" and local_starts(slots)[-1] == "2027-03-02 15:45"
    assert all(b.start_at == a.end_at for a, b in zip(slots, slots[1:]))
    assert slots[0].start_at.tzinfo == UTC and slots[0].start_at.hour == 13


def test_block_that_does_not_divide_is_refused(gp):
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"block": {
            "start": paris(2027, 3, 2, 14), "end": paris(2027, 3, 2, 15, 50), "slot_minutes": 15}}, now=NOW)
    assert error.value.code == "block_not_divisible"
    assert slot_count(gp.practitioner) == 0


def test_series_keeps_its_local_hour_across_both_dst_changes(gp, app):
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    slots = publishing.publish_request(gp, gp.practitioner, {"series": {
        "first_start": datetime(2027, 3, 23, 17, 0), "block_minutes": 60, "slot_minutes": 15,
        "rrule": "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20271105T235959"}}, now=NOW)
    firsts = [s for s in slots if s.start_at.astimezone(PARIS).minute == 0]
    assert {s.start_at.astimezone(PARIS).strftime("%H:%M") for s in firsts} == {"17:00"}
    by_day = {s.start_at.astimezone(PARIS).date().isoformat(): s.start_at.hour for s in firsts}
    # Winter time (UTC+1) before 28 March and after 31 October, summer time (UTC+2) between.
    assert by_day["2027-03-25"] == 16 and by_day["2027-03-30"] == 15
    assert by_day["2027-10-28"] == 15 and by_day["2027-11-02"] == 16
    assert len(slots) == 4 * len(firsts) and len(firsts) == 66  # 33 weeks of Tuesdays and Thursdays


@pytest.mark.parametrize("until", ["20270910", "20270910T235959", "20270910T215959Z"])
def test_series_until_a_date_keeps_that_day(gp, app, until):
    """RFC 5545: a DATE UNTIL is the last day of the series, in Europe/Paris (the schema's own example)."""
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    slots = publishing.publish_request(gp, gp.practitioner, {"series": {
        "first_start": datetime(2027, 8, 31, 17, 0), "block_minutes": 30, "slot_minutes": 15,
        "rrule": f"FREQ=WEEKLY;BYDAY=TU,TH,FR;UNTIL={until}"}}, now=NOW)
    days = sorted({start[:10] for start in local_starts(slots)})
    assert days == ["2027-08-31", "2027-09-02", "2027-09-03", "2027-09-07", "2027-09-09", "2027-09-10"]


@pytest.mark.parametrize("first_start, code", [
    (datetime(2027, 3, 14, 2, 30), "nonexistent_local_time"),   # 28 March 2027 02:30 does not exist
    (datetime(2027, 10, 24, 2, 30), "ambiguous_local_time"),    # 31 October 2027 02:30 happens twice
])
def test_series_hitting_a_dst_gap_or_fold_is_refused_whole(gp, app, first_start, code):
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"series": {
            "first_start": first_start, "block_minutes": 30, "slot_minutes": 15,
            "rrule": "FREQ=WEEKLY;BYDAY=SU;COUNT=3"}}, now=NOW)
    assert error.value.code == code and error.value.status == 422
    assert slot_count(gp.practitioner) == 0


def test_single_local_time_in_the_dst_gap_is_refused(gp):
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"start": datetime(2027, 3, 28, 2, 30),
                                                         "end": datetime(2027, 3, 28, 3, 30)}, now=NOW)
    assert error.value.code == "nonexistent_local_time"


@pytest.mark.parametrize("rrule, reason", [
    ("FREQ=WEEKLY;BYDAY=TU", "UNTIL or COUNT"),
    ("FREQ=SECONDLY;COUNT=10", "FREQ"),
    ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "invalid RRULE"),
])
def test_series_rrule_must_be_bounded_and_readable(gp, rrule, reason):
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"series": {
            "first_start": datetime(2027, 3, 2, 17), "block_minutes": 60, "slot_minutes": 15, "rrule": rrule}}, now=NOW)
    assert reason in error.value.fields["series.rrule"][0]


@pytest.mark.parametrize("start, end, code", [
    (paris(2027, 3, 2, 14), paris(2027, 3, 2, 13), "end_before_start"),
    (paris(2027, 3, 2, 14), paris(2027, 3, 2, 14, 3), "invalid_duration"),
    (paris(2027, 3, 2, 14), paris(2027, 3, 2, 16, 1), "invalid_duration"),
    (paris(2027, 2, 28, 14), paris(2027, 2, 28, 14, 15), "in_the_past"),
    (paris(2027, 7, 2, 14), paris(2027, 7, 2, 14, 15), "beyond_horizon"),
])
def test_each_rule_is_a_422_with_its_code(gp, start, end, code):
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"start": start, "end": end}, now=NOW)
    assert error.value.code == code and error.value.message
    assert slot_count(gp.practitioner) == 0


def test_duration_limits_come_from_configuration(gp, app):
    app.config["SLOT_MAX_MINUTES"] = 30
    with pytest.raises(Invalid, match="de 5 à 30 min"):
        publishing.publish_request(gp, gp.practitioner, {"start": paris(2027, 3, 2, 14), "end": paris(2027, 3, 2, 14, 45)},
                                   now=NOW)


def test_cap_on_slots_per_request(gp, app):
    app.config["MAX_SLOTS_PER_REQUEST"] = 10
    with pytest.raises(Invalid) as error:
        publishing.publish_request(gp, gp.practitioner, {"block": {
            "start": paris(2027, 3, 2, 8), "end": paris(2027, 3, 2, 10, 45), "slot_minutes": 15}}, now=NOW)
    assert error.value.code == "too_many_slots"


def test_overlap_with_an_existing_slot_is_409_naming_it(gp, world):
    existing = world.slot(gp.practitioner, paris(2027, 3, 2, 14, 30), minutes=15)
    with pytest.raises(Conflict) as error:
        publishing.publish_request(gp, gp.practitioner, {"block": {
            "start": paris(2027, 3, 2, 14), "end": paris(2027, 3, 2, 16), "slot_minutes": 15}}, now=NOW)
    assert error.value.extra["clashing_slot_id"] == existing.id
    assert "02/03/2027 de 14:30 à 14:45" in error.value.message
    assert slot_count(gp.practitioner) == 1


def test_withdrawn_slots_do_not_block_and_other_practitioners_do_not_clash(gp, world):
    world.slot(gp.practitioner, paris(2027, 3, 2, 14), status="withdrawn")
    colleague = world.practitioner(gp.practitioner.cpts[0])
    world.slot(colleague, paris(2027, 3, 2, 14))
    slots = publishing.publish_request(gp, gp.practitioner, {"start": paris(2027, 3, 2, 14),
                                                             "end": paris(2027, 3, 2, 14, 15)}, now=NOW)
    assert len(slots) == 1


def test_one_overlap_in_a_batch_of_50_creates_nothing(gp, world):
    world.slot(gp.practitioner, paris(2027, 3, 20, 9, 0))
    batch = [{"start": paris(2027, 3, 2, 9) + timedelta(days=d % 25, hours=d // 25),
              "end": paris(2027, 3, 2, 9, 15) + timedelta(days=d % 25, hours=d // 25)} for d in range(50)]
    assert any(item["start"] == paris(2027, 3, 20, 9) for item in batch)
    with pytest.raises(Conflict):
        publishing.publish_request(gp, gp.practitioner, {"slots": batch}, now=NOW)
    assert slot_count(gp.practitioner) == 1


def test_overlap_inside_the_batch_is_409(gp):
    with pytest.raises(Conflict, match="se chevauchent"):
        publishing.publish_request(gp, gp.practitioner, {"slots": [
            {"start": paris(2027, 3, 2, 9), "end": paris(2027, 3, 2, 9, 30)},
            {"start": paris(2027, 3, 2, 9, 15), "end": paris(2027, 3, 2, 9, 45)}]}, now=NOW)
    assert slot_count(gp.practitioner) == 0


def test_database_refuses_an_overlap_that_skipped_the_check(gp, world):
    """The backstop for two concurrent publishers: the insert itself is refused, as a 409."""
    world.slot(gp.practitioner, paris(2027, 3, 2, 14))
    with pytest.raises(Conflict):
        with publishing.write_transaction():
            publishing.add_slots(gp, gp.practitioner, [publishing.Interval(paris(2027, 3, 2, 14, 5),
                                                                           paris(2027, 3, 2, 14, 20))],
                                 "office", action="slot.publish")
    assert slot_count(gp.practitioner) == 1


def test_database_constraint_holds_for_raw_writes(gp, world):
    world.slot(gp.practitioner, paris(2027, 3, 2, 14))
    db.session.add(Slot(practitioner_id=gp.practitioner.id, start_at=paris(2027, 3, 2, 14, 10),
                        end_at=paris(2027, 3, 2, 14, 25)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_publishing_is_audited_as_one_event(gp):
    slots = publishing.publish_request(gp, gp.practitioner, {"block": {
        "start": paris(2027, 3, 2, 14), "end": paris(2027, 3, 2, 15), "slot_minutes": 15}}, now=NOW)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slot.publish"))
    assert event.actor_id == gp.id
    assert event.after["count"] == 4 and event.after["ids"] == [s.id for s in slots]


def test_withdraw_keeps_the_slot_and_audits(gp, world):
    slot = world.slot(gp.practitioner)
    withdrawn = publishing.withdraw(gp, slot.id)
    assert withdrawn.status == "withdrawn"
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).status == "withdrawn"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slot.withdraw"))
    assert event.object_id == slot.id and event.after == {"status": "withdrawn"}


def test_booked_slot_cannot_be_withdrawn(gp, world):
    slot = world.slot(gp.practitioner)
    world.booking(slot)
    with pytest.raises(Conflict, match="annulez d'abord le rendez-vous"):
        publishing.withdraw(gp, slot.id)
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).status == "booked"
