"""Fill-rate snapshots per CPTS, practitioner and Paris day (SPEC: offered, filled)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from snp_service import fill_rates
from snp_service.extensions import db
from snp_service.models import FillRateSnapshot

from .supplement_helpers import paris

JULY_15, JULY_16 = date(2020, 7, 15), date(2020, 7, 16)


def snapshot_rows():
    return sorted((r.cpts_id, r.practitioner_id, r.day, r.offered, r.filled)
                  for r in db.session.scalars(select(FillRateSnapshot)))


def build(world):
    """CPTS A: P1, P2; CPTS B: P2 (member of both), P3."""
    a, b = world.cpts(), world.cpts()
    p1, p2, p3 = world.practitioner(a), world.practitioner(a), world.practitioner(b)
    p2.cpts.append(b)
    db.session.commit()
    world.booking(world.slot(p1, paris("2020-07-15T09:00")))                    # offered, filled
    world.slot(p1, paris("2020-07-15T09:30"))                                   # offered
    world.slot(p1, paris("2020-07-15T10:00"), status="withdrawn")               # not offered
    world.booking(world.slot(p1, paris("2020-07-15T10:30")), status="cancelled")  # offered, not filled
    p2_booking = world.booking(world.slot(p2, paris("2020-07-15T14:00")))
    world.booking(world.slot(p2, paris("2020-07-15T14:30")))
    world.slot(p3, paris("2020-07-15T23:30"), status="expired")  # 21:30 UTC: still the 15th in Paris
    world.slot(p3, paris("2020-07-16T00:30"))                    # 22:30 UTC on the 15th: the 16th in Paris
    return a, b, (p1, p2, p3), p2_booking


def test_snapshot_counts_offered_and_filled_per_cpts_practitioner_and_paris_day(world):
    a, b, (p1, p2, p3), _ = build(world)

    result = fill_rates.snapshot_days("test", JULY_15, JULY_16)

    assert snapshot_rows() == sorted([
        (a.id, p1.id, JULY_15, 3, 1),
        (a.id, p2.id, JULY_15, 2, 2),
        (b.id, p2.id, JULY_15, 2, 2),
        (b.id, p3.id, JULY_15, 1, 0),
        (b.id, p3.id, JULY_16, 1, 0),
    ])
    assert result == {"days": 2, "rows": 5, "offered": 9, "filled": 5}


def test_snapshot_twice_gives_the_same_rows(world):
    build(world)
    fill_rates.snapshot_days("test", JULY_15, JULY_16)
    first = snapshot_rows()
    fill_rates.snapshot_days("test", JULY_15, JULY_16)
    assert snapshot_rows() == first and len(first) == 5


def test_recent_days_are_recomputed_so_late_cancellations_count(world, app):
    a, _b, (_p1, p2, _p3), p2_booking = build(world)
    fill_rates.snapshot_recent_days(today=JULY_16)
    p2_booking.status, p2_booking.slot.status = "cancelled", "free"
    db.session.commit()

    fill_rates.snapshot_recent_days(today=JULY_16)

    assert (a.id, p2.id, JULY_15, 2, 1) in snapshot_rows()
    app.config["FILL_RATE_RECOMPUTE_DAYS"] = 1  # only the 16th: the 15th keeps its rows
    assert fill_rates.snapshot_recent_days(today=JULY_16)["rows"] == 1
    assert len(snapshot_rows()) == 5


def test_daily_counts_a_practitioner_of_two_cpts_once(world):
    a, b, _practitioners, _ = build(world)
    fill_rates.snapshot_days("test", JULY_15, JULY_16)
    assert fill_rates.daily([a.id, b.id], JULY_15, JULY_16) == [
        {"day": JULY_15, "offered": 6, "filled": 3, "fill_rate": 0.5},
        {"day": JULY_16, "offered": 1, "filled": 0, "fill_rate": 0.0},
    ]
    assert fill_rates.daily([a.id], JULY_15, JULY_15) == [{"day": JULY_15, "offered": 5, "filled": 3, "fill_rate": 0.6}]


def test_autumn_clock_change_day_has_25_hours(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    world.slot(gp, paris("2020-10-25T00:30"))
    world.slot(gp, paris("2020-10-25T23:30"))  # 22:30 UTC
    world.slot(gp, paris("2020-10-26T00:15"))  # 23:15 UTC on the 25th
    fill_rates.snapshot_days("test", date(2020, 10, 25), date(2020, 10, 26))
    assert [(r[2], r[3]) for r in snapshot_rows()] == [(date(2020, 10, 25), 2), (date(2020, 10, 26), 1)]
