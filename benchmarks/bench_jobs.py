"""The nightly jobs at 1× and 4× region scale (SPEC section 6): time and peak memory of each.

Each job runs twice per scale: the first run does the work on a database that
never saw it (every supplement accrued, every indicator computed), the second is
the steady state of the following nights (nothing new to accrue). The scales take
turns: 1× first run, 4× first run, 1× second run, 4× second run. A nightly job
covers every CPTS, so its work is linear in the region: the growth target is the
scale ratio (4× for 4 regions); more is a job that grows faster than its data.
Figures are printed, never asserted.

    python benchmarks/bench_jobs.py                 # SQLite, 1× and 4×
    python benchmarks/bench_jobs.py --postgresql    # the benchmarks' PostgreSQL cluster
    python benchmarks/bench_jobs.py --quick         # a tenth of the data
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

from region_cache import regions
from scaling import Growth, ScaleTable, add_scale_options

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.scheduling import run_job

NIGHTLY_JOBS = ("accrue_supplements", "compute_indicators", "purge_patient_data")


def measure(app, name: str) -> tuple[float, float, dict]:
    """Seconds, Python peak MiB (tracemalloc) and the job's counts."""
    tracemalloc.start()
    started = time.perf_counter()
    result = run_job(app, name, instance="bench")
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def bench(table: ScaleTable, built: dict) -> None:
    apps = {scale: create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": b.url}) for scale, b in built.items()}
    linear = Growth(table.scales[-1] / table.scales[0], f"≤ {table.scales[-1] / table.scales[0]:g}× (linear in the region)")
    print(f"{'job':<22}{'scale':>6}{'run':>5}{'seconds':>10}{'peak MiB':>10}  counts", flush=True)
    for name in NIGHTLY_JOBS:
        seconds: dict[int, dict[int, float]] = {1: {}, 2: {}}
        peaks: dict[int, float] = {}
        for run in (1, 2):
            for scale, app in apps.items():
                elapsed, peak, result = measure(app, name)
                seconds[run][scale] = elapsed
                peaks[scale] = max(peaks.get(scale, 0), peak)
                print(f"{name:<22}{scale:>5}×{run:>5}{elapsed:>10.2f}{peak:>10.1f}  {result}", flush=True)
        table.add(f"{name}, first night", seconds[1], "s", linear)
        table.add(f"{name}, next night", seconds[2], "s", linear)
        table.add(f"{name}, Python peak", peaks, "MiB", linear)
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    table = ScaleTable(f"Nightly jobs, {'PostgreSQL' if args.postgresql else 'SQLite'}", args.scales)
    with regions(args.scales, args.postgresql, quick=args.quick, rebuild=args.rebuild) as built:
        bench(table, built)
        table.note("regions: " + ", ".join(f"{s}× {b.summary['practitioners']:,} practitioners, "
                                           f"{b.summary['slots']:,} slots, {len(b.summary['cpts_ids'])} CPTS"
                                           for s, b in built.items()))
    table.note("times are wall clock under tracemalloc (which slows allocation-heavy code)")
    table.print_and_keep()


if __name__ == "__main__":
    main()
