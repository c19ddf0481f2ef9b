"""The fill-rate report (SPEC section 6): one CPTS season of 30,000 slots (≤ 300 ms), the region (≤ 3 s).

Each report is timed against the bare aggregate SQL (offered and filled counted
straight through the driver, no Python), so the ratio shows what the service adds:
the breakdowns, the summary's other figures and the supplement total. The full
report is 3 statements: two aggregate scans (per UTC hour; per practitioner with the
booking mix) and the sum of the supplement ledger's lines (the statement's figure; the
ledger is accrued once before timing, as the nightly job leaves it). Medians of
``--runs`` runs after one warm-up; figures are printed, never asserted.

    python benchmarks/bench_reports.py                 # SQLite
    python benchmarks/bench_reports.py --postgresql    # throwaway PostgreSQL cluster
    python benchmarks/bench_reports.py --quick         # region of 100,000 slots instead of 1,000,000
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta
from pathlib import Path

from region_data import build_region, start_postgres

from snp_service import create_app, reporting, supplements
from snp_service.extensions import db
from snp_service.timeutil import PARIS, paris_day_bounds

SEASON_DAYS = 60
# One CPTS whose 100 GPs publish 500 slots a day over the 240 days of the generated agenda.
SEASON_SCALE = dict(practitioners=100, slots=120_000, bookings=48_000, cpts_count=1)
BARE_SQL = """
SELECT count(slot.id), count(booking.id) FROM slot
LEFT JOIN booking ON booking.slot_id = slot.id AND booking.status = 'booked'
WHERE slot.practitioner_id IN (SELECT practitioner_id FROM practitioner_cpts WHERE cpts_id IN ({ids}))
  AND slot.status != 'withdrawn' AND slot.start_at >= {lower} AND slot.start_at < {upper}
"""


def median_ms(action, runs: int) -> float:
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def bench(label: str, url: str, scale: dict, runs: int) -> None:
    region = build_region(url, **scale)
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    end = (region["now"] - timedelta(days=1)).astimezone(PARIS).date()
    start = end - timedelta(days=SEASON_DAYS - 1)
    cpts_ids = region["cpts_ids"]
    with app.app_context():
        supplements.accrue_between("bench", start, end)
        offered = reporting.summary(cpts_ids, start, end)["offered"]
        bare = median_ms(lambda: db.session.execute(db.text(_bare_sql(cpts_ids, start, end))).all(), runs)
        summary = median_ms(lambda: reporting.summary(cpts_ids, start, end), runs)
        full = median_ms(lambda: reporting.full_report(cpts_ids, start, end), runs)
        supplement = median_ms(lambda: supplements.ledger_cents(cpts_ids, start, end), runs)
        db.session.remove()
        db.engine.dispose()
    print(f"{label}: {len(cpts_ids)} CPTS, {SEASON_DAYS} days, {offered} offered slots "
          f"(region of {region['slots']} slots built in {region['seconds']} s)")
    print(f"  bare aggregate SQL       {bare:8.1f} ms")
    print(f"  summary                  {summary:8.1f} ms  ({summary / bare:.1f} x bare)")
    print(f"  full report (6 groupings) {full:7.1f} ms  ({full / bare:.1f} x bare)")
    print(f"    of which supplement total {supplement:6.1f} ms  (supplements.ledger_cents: the ledger's sum)")
    print(f"    the rest (SQL aggregation) {full - supplement:5.1f} ms  ({(full - supplement) / bare:.1f} x bare)")


def _bare_sql(cpts_ids: list[int], start, end) -> str:
    lower, upper = paris_day_bounds(start)[0], paris_day_bounds(end)[1]
    if db.engine.dialect.name == "sqlite":  # stored as naive UTC text
        bounds = [f"'{t.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'" for t in (lower, upper)]
    else:
        bounds = [f"'{t.isoformat()}'::timestamptz" for t in (lower, upper)]
    return BARE_SQL.format(ids=", ".join(map(str, cpts_ids)), lower=bounds[0], upper=bounds[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="region of 200 practitioners, 100,000 slots")
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL instead of SQLite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    region_scale = dict(practitioners=200, slots=100_000, bookings=40_000) if args.quick else {}
    cases = (("one CPTS season", SEASON_SCALE), ("region", region_scale))
    if args.postgresql:
        cluster, url = start_postgres("snp_bench_reports")
        try:
            for label, scale in cases:
                bench(label, url, scale, args.runs)
        finally:
            cluster.stop()
    else:
        path = Path("/tmp/snp-bench-reports.sqlite3")
        for label, scale in cases:
            path.unlink(missing_ok=True)
            bench(label, f"sqlite:///{path}", scale, args.runs)
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
