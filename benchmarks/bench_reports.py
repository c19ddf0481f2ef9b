"""The fill-rate report (SPEC section 6) at 1× and 4×: one CPTS season of 30,000 slots (≤ 300 ms), the region (≤ 3 s).

Each report is timed against the bare aggregate SQL (offered and filled counted
straight through the driver, no Python), so the ratio shows what the service adds:
the breakdowns, the summary's other figures and the supplement total. The full
report is 3 statements: two aggregate scans (per UTC hour; per practitioner with the
booking mix) and the sum of the supplement ledger's lines (the ledger is accrued once
before timing, as the nightly job leaves it). Medians of ``--runs`` runs after one warm-up, the scales taking turns
run by run; figures are printed, never asserted.

Both reports read each scale's region, so that a report of one CPTS meets the rest
of the database as it would in production:
- one CPTS season: the first CPTS (100 GPs) over the 144 days that end 24 days from
  now, about 30,000 offered slots at every scale: linear growth means no growth;
- region: every CPTS over the 60 past days (N × 240,000 offered slots).

    python benchmarks/bench_reports.py                 # SQLite, 1× and 4×
    python benchmarks/bench_reports.py --postgresql    # the benchmarks' PostgreSQL cluster
    python benchmarks/bench_reports.py --quick         # a tenth of the data
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from region_cache import regions
from scaling import ScaleTable, add_scale_options, in_turns, linear_in

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_day_bounds
from snp_service.reporting import fill_rate
from snp_service.supplements import ledger, statements

# (days, days after the build's day the period ends): a 30,000-slot season of one CPTS, the region's past 60 days.
SEASON, REGION_DAYS = (144, 24), (60, -1)
BARE_SQL = """
SELECT count(slot.id), count(booking.id) FROM slot
LEFT JOIN booking ON booking.slot_id = slot.id AND booking.status = 'booked'
WHERE slot.practitioner_id IN (SELECT practitioner_id FROM practitioner_cpts WHERE cpts_id IN ({ids}))
  AND slot.status != 'withdrawn' AND slot.start_at >= {lower} AND slot.start_at < {upper}
"""
PARTS = ("bare aggregate SQL", "summary", "full report (6 groupings)", "of which supplement total")


class Report:
    """One data set at one scale: its app, the CPTS the report covers and the 60 past days."""

    def __init__(self, built, cpts_ids: list[int] | None, days: tuple[int, int]):
        self.app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": built.url})
        self.end = (built.summary["now"] + timedelta(days=days[1])).astimezone(PARIS).date()
        self.start = self.end - timedelta(days=days[0] - 1)
        self.cpts_ids = cpts_ids or built.summary["cpts_ids"]
        with self.app.app_context():
            self.offered = fill_rate.summary(self.cpts_ids, self.start, self.end)["offered"]

    def timings(self, _round: int) -> dict[str, float]:
        """Milliseconds of each part, once each (the caller repeats and takes medians)."""
        ids, start, end = self.cpts_ids, self.start, self.end
        actions = {PARTS[0]: lambda: db.session.execute(db.text(_bare_sql(ids, start, end))).all(),
                   PARTS[1]: lambda: fill_rate.summary(ids, start, end),
                   PARTS[2]: lambda: fill_rate.full_report(ids, start, end),
                   PARTS[3]: lambda: statements.ledger_cents(ids, start, end)}
        with self.app.app_context():
            timings = {}
            for part, action in actions.items():
                started = time.perf_counter()
                action()
                timings[part] = (time.perf_counter() - started) * 1000
            db.session.remove()
        return timings

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def _bare_sql(cpts_ids: list[int], start, end) -> str:
    lower, upper = paris_day_bounds(start)[0], paris_day_bounds(end)[1]
    if db.engine.dialect.name == "sqlite":  # stored as naive UTC text
        bounds = [f"'{t.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'" for t in (lower, upper)]
    else:
        bounds = [f"'{t.isoformat()}'::timestamptz" for t in (lower, upper)]
    return BARE_SQL.format(ids=", ".join(map(str, cpts_ids)), lower=bounds[0], upper=bounds[1])


def bench(table: ScaleTable, label: str, built: dict, one_cpts: bool, days: tuple[int, int], runs: int,
          target_ms: float) -> None:
    reports = {scale: Report(b, [b.summary["cpts_ids"][0]] if one_cpts else None, days) for scale, b in built.items()}
    for report in reports.values():
        report.timings(0)  # warm-up
    measured = in_turns({scale: report.timings for scale, report in reports.items()}, runs)
    for report in reports.values():
        report.close()
    covered = {scale: report.offered for scale, report in reports.items()}
    growth = linear_in(covered, table.scales)
    for part in PARTS:
        table.add(f"{label}: {part}", {s: statistics.median(r[part] for r in rounds) for s, rounds in measured.items()},
                  "ms", growth, f"≤ {target_ms / 1000:g} s at 1×" if part == PARTS[2] else "")
    table.note(f"{label}: " + ", ".join(f"{s}× {len(r.cpts_ids)} CPTS, {r.offered:,} offered slots"
                                        for s, r in reports.items()) + f", {days[0]} days")


def accrue_ledger(built) -> None:
    """The supplement ledger over the season's days (which hold the region's), as the nightly job leaves it."""
    report = Report(built, None, SEASON)
    with report.app.app_context():
        ledger.accrue_between("bench", report.start, report.end)
    report.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    name = "PostgreSQL" if args.postgresql else "SQLite"
    table = ScaleTable(f"Reports, {name}", args.scales)
    with regions(args.scales, args.postgresql, quick=args.quick, rebuild=args.rebuild) as built:
        for b in built.values():
            accrue_ledger(b)
        bench(table, "one CPTS season", built, True, SEASON, args.runs, 300)
        bench(table, "region", built, False, REGION_DAYS, args.runs, 3000)
    table.note(f"medians of {args.runs} runs after a warm-up, scales alternating run by run")
    table.print_and_keep()


if __name__ == "__main__":
    main()
