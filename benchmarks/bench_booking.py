"""Booking benchmarks (SPEC section 6) at 1× and 4× region scale, printed as figures, never asserted.

1. Slot search in the server (time spent in the WSGI application, requests sent by the
   Flask test client with a bearer token, JSON out), on SQLite and PostgreSQL, next to
   the raw SQL of the same query. The scales take turns, round by round.
2. Booking throughput on PostgreSQL: 32 concurrent HTTP clients against gunicorn, as a
   ratio of the same SQL run raw through psycopg (``booking_load``: the statements of one
   booking request captured at the engine and replayed per slot). HTTP and replay, and
   the scales, run in alternating rounds and the medians are compared.
3. A race: 10,000 booking attempts on 100 slots through gunicorn; counts double bookings.

Each scale's region comes from ``region_cache`` (built once, then copied per run).

    python benchmarks/bench_booking.py                     # 1× and 4× (about 25 min on 2 shared cores)
    python benchmarks/bench_booking.py --scales 1          # the SPEC's region alone
    python benchmarks/bench_booking.py --quick             # a tenth of the regions, fewer requests
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections import Counter
from datetime import timedelta

from booking_load import (CLIENTS, CpuMeter, Gunicorn, capture_booking, describe, double_bookings, free_slot_ids,
                          http_bookings, minimal_raw_bookings, race, replayed_bookings, statement_count)
from region_cache import regions
from scaling import NO_GROWTH_TARGET, RATE_WITHIN_1_5, WITHIN_1_5, ScaleTable, add_scale_options, in_turns

from snp_service import create_app
from snp_service.accounts import tokens
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Practitioner, User, practitioner_cpts
from snp_service.slots import search

ROUNDS = 3
SEARCH_ROUNDS = 4
WARM_UP = 100


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def regulator_token(app, summary: dict) -> tuple[str, list[int]]:
    """A token of the first area's regulator: the same 4 CPTS, in the same place, at every scale."""
    area, cpts_ids = next(iter(summary["areas"].items()))
    with app.app_context():
        user = db.session.query(User).filter_by(email=summary["regulator_emails"][area]).one()
        secret, _ = tokens.issue_token(user, timedelta(hours=2))
    return secret, cpts_ids


class SearchLoad:
    """One scale's search requests: the same communes and the same mix at every scale.

    30 % of the requests name a treating doctor, one in five of them practising in the
    regulator's area (so the share does not depend on how many areas the database holds).
    """

    def __init__(self, url: str, summary: dict):
        self.app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
        self.server_times = time_in_server(self.app)
        self.token, self.cpts_ids = regulator_token(self.app, summary)
        self.communes = sorted(insee for insee, cpts_id in summary["commune_cpts"].items() if cpts_id in self.cpts_ids)
        with self.app.app_context():
            members = select_rpps(self.cpts_ids, inside=True)
            others = select_rpps(self.cpts_ids, inside=False)
        self.treating = (members, others)
        self.client = self.app.test_client()

    def params(self, rng: random.Random) -> dict:
        params = {"commune": rng.choice(self.communes), "radius_km": rng.choice([10, 20, 30])}
        if rng.random() < 0.3:
            members, others = self.treating
            params["treating_rpps"] = rng.choice(members if rng.random() < 0.2 or not others else others)
        return params

    def served(self, requests: int, seed: int) -> list[float]:
        """Milliseconds in the server for ``requests`` searches (after 20 warm-up ones)."""
        rng, headers = random.Random(seed), {"Authorization": f"Bearer {self.token}"}
        self.server_times.clear()
        for _ in range(requests + 20):
            response = self.client.get("/api/v1/slots/search", query_string=self.params(rng), headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
        return self.server_times[20:]

    def raw(self, requests: int, seed: int) -> list[float]:
        """The search's own statement, bound and run on a plain engine connection: no ORM, no HTTP, no Python after."""
        statement = search._statement(scoped=True, near="commune", practitioner=None, by_mode=False)
        timings, rng = [], random.Random(seed)
        with self.app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for n in range(requests + 20):
                params, now = self.params(rng), utcnow()
                started = time.perf_counter()
                conn.execute(statement, {"start": now, "end": now + timedelta(hours=48), "limit": 20,
                                         "scope": sorted(self.cpts_ids), "insee": params["commune"],
                                         "radius_km": float(params["radius_km"]), "mode": None,
                                         "rpps": params.get("treating_rpps"), "practitioner_id": None}).fetchall()
                if n >= 20:
                    timings.append((time.perf_counter() - started) * 1000)
        return timings

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def select_rpps(cpts_ids: list[int], inside: bool) -> list[str]:
    members = db.select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(cpts_ids))
    condition = Practitioner.id.in_(members) if inside else Practitioner.id.not_in(members)
    return list(db.session.scalars(db.select(Practitioner.rpps).where(condition).order_by(Practitioner.id).limit(400)))


def time_in_server(app) -> list[float]:
    """Milliseconds each request spends in the WSGI application, body included (not the test client's own work)."""
    timings: list[float] = []
    inner = app.wsgi_app

    def timed(environ, start_response):
        started = time.perf_counter()
        body = b"".join(inner(environ, start_response))
        timings.append((time.perf_counter() - started) * 1000)
        return [body]

    app.wsgi_app = timed
    return timings


def bench_search(table: ScaleTable, name: str, built: dict, requests: int) -> None:
    gc.freeze()  # as wsgi.py does in the server after start-up
    loads = {scale: SearchLoad(b.url, b.summary) for scale, b in built.items()}
    per_round = requests // SEARCH_ROUNDS
    served = in_turns({s: (lambda n, s=s: loads[s].served(per_round, seed=n)) for s in loads}, SEARCH_ROUNDS)
    raw = in_turns({s: (lambda n, s=s: loads[s].raw(per_round, seed=n)) for s in loads}, SEARCH_ROUNDS)
    for load in loads.values():
        load.close()
    served = {s: [t for r in rounds for t in r] for s, rounds in served.items()}
    raw = {s: [t for r in rounds for t in r] for s, rounds in raw.items()}
    table.add(f"search in the server, {name}: p50", {s: statistics.median(v) for s, v in served.items()}, "ms",
              WITHIN_1_5)
    table.add(f"search in the server, {name}: p95", {s: percentile(v, 0.95) for s, v in served.items()}, "ms",
              WITHIN_1_5, "p95 ≤ 10 ms")
    table.add(f"search statement raw, {name}: p50", {s: statistics.median(v) for s, v in raw.items()}, "ms",
              NO_GROWTH_TARGET, "< 1 ms")
    table.add(f"search statement raw, {name}: p95", {s: percentile(v, 0.95) for s, v in raw.items()}, "ms",
              NO_GROWTH_TARGET)


class WriteLoad:
    """One scale's booking load: its server, its token, its slots and the captured SQL of one booking."""

    def __init__(self, built, bookings: int, workers: int | None, threads: int):
        self.url = built.url
        app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": self.url})
        self.token, cpts_ids = regulator_token(app, built.summary)
        with app.app_context():
            db.engine.dispose()
        slots = free_slot_ids(self.url, cpts_ids, 3 * bookings + 101)
        self.http_slots, self.raw_slots, self.minimal_slots = (slots[i * bookings:(i + 1) * bookings] for i in range(3))
        self.race_slots = slots[3 * bookings:3 * bookings + 100]
        self.steps = capture_booking(self.url, self.token, slots[-1])
        self.server = Gunicorn(self.url, workers=workers, threads=threads)
        http_bookings(self.server.port, self.token, self.minimal_slots[:WARM_UP])  # first requests: imports, caches
        self.statuses: Counter = Counter()
        self.meter = CpuMeter(built.postmaster_pid)
        self.worker_cpu: list[float] = []
        self.http_cost: list[float] = []  # ms of CPU a booking, every process (server, database, clients)
        self.raw_cost: list[float] = []

    def http_round(self, n: int) -> float:
        cpu, before = self.server.cpu_seconds(), self.meter.snapshot()
        rate, answers = http_bookings(self.server.port, self.token, self.http_slots[n::ROUNDS])
        worker = self.server.cpu_seconds() - cpu
        count = sum(answers.values())
        self.worker_cpu.append(worker * 1000 / count)
        self.http_cost.append((worker + self.meter.spent(before, self.meter.snapshot())) * 1000 / count)
        self.statuses.update(answers)
        return rate

    def raw_round(self, n: int) -> float:
        slots, before = self.raw_slots[n::ROUNDS], self.meter.snapshot()
        rate = replayed_bookings(self.url, self.steps, slots)
        self.raw_cost.append(self.meter.spent(before, self.meter.snapshot()) * 1000 / len(slots))
        return rate


def bench_writes(table: ScaleTable, built: dict, bookings: int, attempts: int, workers: int | None,
                 threads: int) -> None:
    loads = {scale: WriteLoad(b, bookings, workers, threads) for scale, b in built.items()}
    try:
        first = next(iter(loads.values()))
        statements, commits = statement_count(first.steps)
        print(f"one booking request executes {statements} statements + {commits} commit: {describe(first.steps)}")
        http, raw = {s: [] for s in loads}, {s: [] for s in loads}
        for n in range(ROUNDS):
            for scale in (list(loads) if n % 2 == 0 else list(loads)[::-1]):
                http[scale].append(loads[scale].http_round(n))
                raw[scale].append(loads[scale].raw_round(n))
                load = loads[scale]
                print(f"  round {n + 1}, {scale}×: gunicorn {http[scale][-1]:.0f}/s ({load.worker_cpu[-1]:.1f} ms "
                      f"server CPU, {load.http_cost[-1]:.1f} ms in all a booking), raw {raw[scale][-1]:.0f}/s "
                      f"({load.raw_cost[-1]:.1f} ms)", flush=True)
        minimal = {s: minimal_raw_bookings(load.url, load.minimal_slots[WARM_UP:]) for s, load in loads.items()}
        kind = f"{threads} gthread threads" if threads > 1 else "sync"
        http_rate = {s: statistics.median(v) for s, v in http.items()}
        raw_rate = {s: statistics.median(v) for s, v in raw.items()}
        table.add(f"booking throughput, {CLIENTS} clients, gunicorn ({workers or os.cpu_count() + 1} {kind} workers)",
                  http_rate, "/s", RATE_WITHIN_1_5)
        table.add("the same SQL replayed raw through psycopg", raw_rate, "/s", NO_GROWTH_TARGET)
        table.add("booking throughput / raw replay", {s: 100 * http_rate[s] / raw_rate[s] for s in loads}, "%",
                  NO_GROWTH_TARGET, "≥ 50 %")
        table.add("gunicorn CPU per booking (median of rounds)",
                  {s: statistics.median(load.worker_cpu) for s, load in loads.items()}, "ms", NO_GROWTH_TARGET)
        http_cost = {s: statistics.median(load.http_cost) for s, load in loads.items()}
        raw_cost = {s: statistics.median(load.raw_cost) for s, load in loads.items()}
        table.add("CPU per booking, every process: through gunicorn", http_cost, "ms", WITHIN_1_5)
        table.add("CPU per booking, every process: raw replay", raw_cost, "ms", NO_GROWTH_TARGET)
        table.add("raw / gunicorn CPU per booking (the ratio on cores of their own)",
                  {s: 100 * raw_cost[s] / http_cost[s] for s in loads}, "%", NO_GROWTH_TARGET, "≥ 50 %")
        table.add("minimal 4-statement writes raw", minimal, "/s", NO_GROWTH_TARGET)
        table.note(f"one booking request: {statements} statements + {commits} commit ({describe(first.steps)}); "
                   f"rounds (gunicorn / raw): " + "; ".join(
                       f"{s}× " + ", ".join(f"{h:.0f}/{r:.0f}" for h, r in zip(http[s], raw[s])) for s in loads))
        for scale, load in loads.items():
            answers = race(load.server.port, load.token, load.race_slots, attempts)
            doubles, booked = double_bookings(load.url, load.race_slots)
            print(f"race {scale}×: {attempts} attempts on {len(load.race_slots)} slots -> {dict(answers)}; "
                  f"active bookings {booked}, slots booked twice {doubles}")
            load.race = (doubles, dict(answers))
        table.add(f"race: slots booked twice in {attempts:,} attempts on 100 slots",
                  {s: load.race[0] for s, load in loads.items()}, "", NO_GROWTH_TARGET, "0")
        table.add("gunicorn peak RSS, largest process", {s: max(load.server.peak_rss_mib().values())
                                                          for s, load in loads.items()}, "MiB", NO_GROWTH_TARGET,
                  "≤ 200 MB")
        table.note("booking answers: " + "; ".join(f"{s}× {dict(load.statuses)}" for s, load in loads.items()))
        table.note("race answers: " + "; ".join(f"{s}× {load.race[1]}" for s, load in loads.items()))
    finally:
        for load in loads.values():
            load.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--postgresql-only", action="store_true", help="skip the SQLite search run")
    parser.add_argument("--search-only", action="store_true", help="skip the throughput rounds and the race")
    parser.add_argument("--writes-only", action="store_true", help="skip the searches (PostgreSQL writes only)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: config/gunicorn_conf.py, cores + 1)")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker (default 1: sync workers)")
    args = parser.parse_args()
    searches, bookings, attempts = (200, 600, 2000) if args.quick else (1000, 3000, 10_000)
    table = ScaleTable("Search and booking", args.scales)
    if not (args.postgresql_only or args.writes_only):
        with regions(args.scales, postgresql=False, quick=args.quick, rebuild=args.rebuild) as built:
            bench_search(table, "SQLite", built, searches)
    with regions(args.scales, postgresql=True, quick=args.quick, rebuild=args.rebuild) as built:
        if not args.writes_only:
            bench_search(table, "PostgreSQL", built, searches)
        if not args.search_only:
            bench_writes(table, built, bookings, attempts, args.workers, args.threads)
    table.note("search: the first area's regulator (4 CPTS, same place at every scale), commune + 10/20/30 km, "
               f"{searches} requests per scale in {SEARCH_ROUNDS} alternating rounds")
    table.print_and_keep()


if __name__ == "__main__":
    main()
