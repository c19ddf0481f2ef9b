"""The nightly jobs on the region-scale data set (SPEC section 6): time and peak memory of each.

Each job runs twice: the first run does the work on a database that never saw
it (every supplement accrued, every indicator computed), the second is the
steady state of the following nights (nothing new to accrue). Figures are
printed, never asserted.

    python benchmarks/bench_jobs.py                 # SQLite, region scale
    python benchmarks/bench_jobs.py --postgresql    # throwaway PostgreSQL cluster
    python benchmarks/bench_jobs.py --quick         # 200 practitioners, 100,000 slots
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from region_data import build_region, throwaway_database

from snp_service import create_app
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


def bench(url: str, scale: dict) -> None:
    summary = build_region(url, **scale)
    print(f"region: {summary['practitioners']} practitioners, {summary['slots']} slots, "
          f"{summary['bookings']} bookings, {len(summary['cpts_ids'])} CPTS (built in {summary['seconds']} s)")
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    print(f"{'job':<22}{'run':>5}{'seconds':>10}{'peak MiB':>10}  counts")
    for name in NIGHTLY_JOBS:
        for run in (1, 2):
            seconds, peak, result = measure(app, name)
            print(f"{name:<22}{run:>5}{seconds:>10.2f}{peak:>10.1f}  {result}")
    # ru_maxrss is in KiB on Linux: the whole process, region build included.
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 practitioners, 100,000 slots")
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL instead of SQLite")
    args = parser.parse_args()
    scale = dict(practitioners=200, slots=100_000, bookings=40_000) if args.quick else {}
    with throwaway_database("snp-bench-jobs", args.postgresql) as url:
        bench(url, scale)


if __name__ == "__main__":
    main()
