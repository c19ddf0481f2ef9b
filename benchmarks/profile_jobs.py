"""Where the nightly jobs spend their time at 1× and 4× region scale: SQL statements grouped by text.

``bench_jobs.py`` says how long a job takes at each scale; this says which statements
make the difference. Each job runs on the working copies of ``region_cache`` (the same
regions as ``bench_jobs.py``), with SQLAlchemy cursor events timing every statement.
Statements are grouped by their text with the bound values and the lengths of
``IN (...)`` and ``VALUES (...), (...)`` lists taken out. For each job it prints:

- the job's wall time, the time spent in SQL and the number of statements, per scale;
- the top statement groups (by total time at the last scale): count, total and mean ms
  at each scale, and the ratio of the totals;
- for ``compute_indicators``, the mean time per CPTS and per kind of period (month,
  quarter, year, season): constant means the job is linear in the number of CPTS;
- ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statement of the ``--explain`` most expensive
  groups at each scale (with ``track_io_timing``, in a transaction rolled back, so that a
  DELETE or INSERT changes nothing).

The jobs run in the order of the nightly run (``accrue_supplements`` first, so that
``compute_indicators`` reads an accrued ledger); ``--runs 2`` profiles the second night
(the first run warms the database up and does the first night's writes).

    python benchmarks/profile_jobs.py                            # PostgreSQL, 1× and 4×
    python benchmarks/profile_jobs.py --jobs compute_indicators --cpts 5   # 5 CPTS per scale
    python benchmarks/profile_jobs.py --sqlite --explain 0       # the SQLite files instead
"""
from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from region_cache import regions
from scaling import add_scale_options
from sqlalchemy import event

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.reporting import indicators
from snp_service.scheduling import run_job

JOBS = ("accrue_supplements", "compute_indicators")


@dataclass
class Group:
    """The executions of one normalized statement."""
    count: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_call: tuple | None = None  # (statement, parameters) of the slowest execution, for EXPLAIN

    def add(self, seconds: float, statement: str, parameters) -> None:
        self.count += 1
        self.seconds += seconds
        if seconds > self.slowest:
            self.slowest, self.slowest_call = seconds, (statement, parameters)


@dataclass
class Profile:
    """One job run at one scale."""
    seconds: float = 0.0
    groups: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    per_cpts: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    per_period: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    result: dict | None = None

    @property
    def sql_seconds(self) -> float:
        return sum(g.seconds for g in self.groups.values())

    @property
    def statements(self) -> int:
        return sum(g.count for g in self.groups.values())


_PARAMETER = re.compile(r"%\(\w+\)s|\$\d+|\?|'[^']*'|\b\d+(\.\d+)?\b")
_LIST = re.compile(r"\(\s*_(?:\s*,\s*_)*\s*\)")
_ROWS = re.compile(r"\(_…\)(?:\s*,\s*\(_…\))+")


def normalize(statement: str) -> str:
    """The statement's text without its values: one group for every CPTS, period and batch size."""
    text = " ".join(statement.split())
    text = _PARAMETER.sub("_", text)
    text = _LIST.sub("(_…)", text)
    return _ROWS.sub("(_…), …", text)


def period_kind(period: str) -> str:
    if period.startswith("season:"):
        return "season"
    return "quarter" if "-Q" in period else "month" if "-" in period else "year"


class Profiler:
    """Times every statement of an engine into ``self.profile`` while one is set."""

    def __init__(self, engine):
        self.profile: Profile | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("profile_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["profile_started"].pop()
        if self.profile is not None:
            self.profile.groups[normalize(statement)].add(elapsed, statement, None if executemany else parameters)


def profile_job(app, profiler: Profiler, name: str, cpts_limit: int | None) -> Profile:
    """Run the job as the scheduler does (``run_job``); ``compute_indicators`` is timed per CPTS and period.

    ``cpts_limit``: compute the indicators of the first N CPTS only (the others' periods are skipped).
    """
    profile = Profile()
    original = indicators.compute
    seen: list[int] = []  # the CPTS in the order the job meets them

    def timed_compute(actor, cpts_id, period):
        if cpts_id not in seen:
            seen.append(cpts_id)
        if cpts_limit is not None and seen.index(cpts_id) >= cpts_limit:
            return []
        started = time.perf_counter()
        rows = original(actor, cpts_id, period)
        elapsed = time.perf_counter() - started
        profile.per_cpts[cpts_id] += elapsed
        profile.per_period[period_kind(period)].append(elapsed)
        return rows

    if name == "compute_indicators":
        indicators.compute = timed_compute  # compute_due looks it up in the module at each call
    profiler.profile = profile
    started = time.perf_counter()
    try:
        profile.result = run_job(app, name, instance="profile")
    finally:
        profile.seconds = time.perf_counter() - started
        profiler.profile = None
        indicators.compute = original
    return profile


def explain(app, call: tuple, postgresql: bool) -> str:
    """The plan of one statement as it ran (its own parameters), executed in a transaction rolled back."""
    statement, parameters = call
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
    with app.app_context():
        with db.engine.connect() as conn:
            transaction = conn.begin()
            try:
                if postgresql:
                    conn.exec_driver_sql("SET LOCAL track_io_timing = on")  # the plan's reads get their time
                rows = conn.exec_driver_sql(prefix + statement, parameters or {}).all()
            finally:
                transaction.rollback()
    return "\n".join(" | ".join(str(v) for v in row) if not postgresql else row[0] for row in rows)


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.1f}"


def _ratio(a: float, b: float) -> str:
    return f"{b / a:.2f}" if a else "-"


def report(name: str, profiles: dict[int, Profile], apps: dict, postgresql: bool, top: int, explain_plans: int) -> None:
    scales = list(profiles)
    first, last = scales[0], scales[-1]
    print(f"\n=== {name} ===")
    for scale, p in profiles.items():
        print(f"{scale}×: {p.seconds:.2f} s wall, {p.sql_seconds:.2f} s in SQL, {p.statements:,} statements  {p.result}")
    print(f"ratio {last}×/{first}×: wall {_ratio(profiles[first].seconds, profiles[last].seconds)}, "
          f"SQL {_ratio(profiles[first].sql_seconds, profiles[last].sql_seconds)}, "
          f"statements {_ratio(profiles[first].statements, profiles[last].statements)}")

    if profiles[last].per_cpts:
        print("\nper CPTS and per period (ms, mean over the CPTS / periods computed):")
        for scale, p in profiles.items():
            per_cpts = sum(p.per_cpts.values()) / len(p.per_cpts)
            kinds = ", ".join(f"{kind} {_ms(sum(v) / len(v))} ×{len(v)}" for kind, v in sorted(p.per_period.items()))
            print(f"  {scale}×: {len(p.per_cpts)} CPTS, {_ms(per_cpts)} ms per CPTS; per period: {kinds}")

    keys = sorted(profiles[last].groups, key=lambda k: profiles[last].groups[k].seconds, reverse=True)[:top]
    print(f"\ntop {len(keys)} statements by total time at {last}× (count / total ms / mean ms per scale):")
    for rank, key in enumerate(keys, 1):
        cells = []
        for scale, p in profiles.items():
            g = p.groups.get(key, Group())
            cells.append(f"{scale}×: {g.count:>5} / {_ms(g.seconds):>10} / {_ms(g.seconds / g.count) if g.count else '-':>8}")
        totals = [profiles[s].groups.get(key, Group()).seconds for s in (first, last)]
        print(f"#{rank} " + "   ".join(cells) + f"   ratio {_ratio(*totals)}")
        print(f"    {key[:600]}")

    for rank, key in enumerate(keys[:explain_plans], 1):
        for scale, p in profiles.items():
            group = p.groups.get(key)
            if group is None or group.slowest_call is None or group.slowest_call[1] is None:
                continue  # an executemany: its plan is one row's
            print(f"\nplan of #{rank} at {scale}× (its slowest execution, {_ms(group.slowest)} ms in the job):")
            print(explain(apps[scale], group.slowest_call, postgresql))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--sqlite", action="store_true", help="the SQLite regions instead of PostgreSQL")
    parser.add_argument("--jobs", default=",".join(JOBS), type=lambda text: text.split(","),
                        help=f"jobs to run, in this order (default {','.join(JOBS)})")
    parser.add_argument("--runs", type=int, default=1, help="runs of each job per scale; the last is profiled")
    parser.add_argument("--cpts", type=int, help="compute_indicators: only the first N CPTS of each scale")
    parser.add_argument("--top", type=int, default=10, help="statement groups listed per job")
    parser.add_argument("--explain", type=int, default=2, help="EXPLAIN ANALYZE the N most expensive groups (default 2)")
    args = parser.parse_args()
    postgresql = not args.sqlite
    with regions(args.scales, postgresql, quick=args.quick, rebuild=args.rebuild) as built:
        for scale, b in built.items():
            print(f"{scale}×: {b.summary['practitioners']:,} practitioners, {b.summary['slots']:,} slots, "
                  f"{b.summary['bookings']:,} bookings, {len(b.summary['cpts_ids'])} CPTS", flush=True)
        apps = {scale: create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": b.url})
                for scale, b in built.items()}
        if postgresql:  # what does not fit in shared_buffers is read from the OS page cache
            for scale, app in apps.items():
                with app.app_context():
                    size, buffers = db.session.execute(db.text(
                        "SELECT pg_size_pretty(pg_database_size(current_database())), current_setting('shared_buffers')")).one()
                    db.session.rollback()
                print(f"{scale}×: database {size}, shared_buffers {buffers}")
        profilers = {}
        for scale, app in apps.items():
            with app.app_context():
                profilers[scale] = Profiler(db.engine)
        try:
            for name in args.jobs:
                profiles = {}
                for run in range(1, args.runs + 1):
                    for scale, app in apps.items():
                        profiles[scale] = profile_job(app, profilers[scale], name, args.cpts)
                        print(f"{name} {scale}× run {run}: {profiles[scale].seconds:.2f} s", flush=True)
                report(name, profiles, apps, postgresql, args.top, args.explain)
        finally:
            for app in apps.values():
                with app.app_context():
                    db.engine.dispose()


if __name__ == "__main__":
    main()
