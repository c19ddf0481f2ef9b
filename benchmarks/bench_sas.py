"""SAS platform slot search benchmarks (SPEC sections 6 and 7) at 1× and 4×, printed as figures, never asserted.

1. Time in the server (the WSGI application, body included; requests sent by the Flask test client with
   the proxy's client-certificate headers) of the platform's search over today and the next two days,
   for 1 and for 25 practitioners (INT_R01), and for 25 with the CPTS includes (INT_R04), on PostgreSQL;
   next to it, the search's one SQL statement bound and run raw on a plain connection.
   SPEC: p95 <= 50 ms for 25 practitioners in the server; within 1.5× of 1× at 4×.
2. Searches per second through gunicorn (config/gunicorn_conf.py: sync workers, cores + 1) with 8
   concurrent keep-alive clients, 25 practitioners each. SPEC: >= 100 searches/s.

The practitioners asked for are drawn from the whole region, so at every scale a search reads the same
number of practitioners' slots; the scales take turns round by round.

    python benchmarks/bench_sas.py                 # 1× and 4× (region_cache's regions)
    python benchmarks/bench_sas.py --quick         # a tenth of the regions, fewer requests
    python benchmarks/bench_sas.py --test-kit --scales 1   # the ANS test kit's figure only (see below)

The ANS test kit v0.3.0 asks a one-practitioner search to answer in under 1 s: the first case (INT_R01,
1 practitioner, over WINDOW = 72 h) prints its p95 on a line of its own.
"""
from __future__ import annotations

import argparse
import gc
import http.client
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import quote

from bench_booking import time_in_server, percentile
from booking_load import Gunicorn
from region_cache import regions
from scaling import NO_GROWTH_TARGET, RATE_WITHIN_1_5, WITHIN_1_5, ScaleTable, add_scale_options, in_turns

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, utcnow
from snp_service.sas import search as sas_search

CLIENTS = 8
WARM_UP = 20
ROUNDS = 4
SAS_CN, SAS_OU = "sas-platform.bench", "Plateforme SAS"
SAS_HEADERS = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": f"CN={SAS_CN},OU={SAS_OU},O=ANS,C=FR"}
WINDOW = timedelta(days=3)
CASES = (("INT_R01, 1 practitioner", 1, False), ("INT_R01, 25 practitioners", 25, False),
         ("INT_R04, 25 practitioners", 25, True))


def rpps_of(n: int) -> str:
    return f"{10_000_000_000 + n:011d}"  # region_data's RPPS numbers


def search_path(rpps: list[str], cpts: bool) -> str:
    """SPEC section 7's query string, over the platform's window: now to the end of the day after tomorrow."""
    now = utcnow()
    start, end = (moment.astimezone(PARIS).isoformat(timespec="milliseconds") for moment in (now, now + WINDOW))
    identifiers = ",".join(f"urn:oid:1.2.250.1.71.4.2.1|8{number}" for number in rpps)
    path = (f"/api/v1/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
            f"&start=ge{quote(start)}&start=le{quote(end)}&schedule.actor:Practitioner.identifier={identifiers}"
            f"&status=free")
    return path + ("&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"
                   if cpts else "")


def samples(rng: random.Random, practitioners: int, size: int, count: int) -> list[list[str]]:
    return [[rpps_of(n) for n in rng.sample(range(1, practitioners + 1), size)] for _ in range(count)]


class SasLoad:
    """One scale's platform searches: in the server through the test client, and the statement raw."""

    def __init__(self, built):
        self.app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": built.url,
                               "SAS_CLIENT_CN": SAS_CN, "SAS_CLIENT_OU": SAS_OU})
        self.server_times = time_in_server(self.app)
        self.client, self.practitioners = self.app.test_client(), built.summary["practitioners"]

    def served(self, size: int, cpts: bool, requests: int, seed: int) -> tuple[list[float], list[int]]:
        self.server_times.clear()
        sizes = []
        for rpps in samples(random.Random(seed), self.practitioners, size, requests + WARM_UP):
            response = self.client.get(search_path(rpps, cpts), headers=SAS_HEADERS)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            sizes.append(response.get_json()["total"])
        return self.server_times[WARM_UP:], sizes[WARM_UP:]

    def raw(self, size: int, cpts: bool, requests: int, seed: int) -> list[float]:
        """The search's one statement, bound and run on a plain autocommit connection: no HTTP, no FHIR."""
        statement, timings = sas_search._statement(with_cpts=cpts), []
        with self.app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for n, rpps in enumerate(samples(random.Random(seed), self.practitioners, size, requests + WARM_UP)):
                now = utcnow()
                started = time.perf_counter()
                conn.execute(statement, {"rpps": rpps, "start_from": now, "start_before": now + WINDOW,
                                         "now": now}).fetchall()
                if n >= WARM_UP:
                    timings.append((time.perf_counter() - started) * 1000)
        return timings

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def bench_in_server(table: ScaleTable, built: dict, requests: int, cases=CASES) -> None:
    gc.freeze()  # as wsgi.py does in the server after start-up
    loads = {scale: SasLoad(b) for scale, b in built.items()}
    per_round = requests // ROUNDS
    for label, size, cpts in cases:
        served = in_turns({s: (lambda n, s=s: loads[s].served(size, cpts, per_round, seed=100 * size + n))
                           for s in loads}, ROUNDS)
        raw = in_turns({s: (lambda n, s=s: loads[s].raw(size, cpts, per_round, seed=100 * size + n)) for s in loads},
                       ROUNDS)
        times = {s: [t for r in rounds for t in r[0]] for s, rounds in served.items()}
        slots = {s: statistics.mean(c for r in rounds for c in r[1]) for s, rounds in served.items()}
        raw = {s: [t for r in rounds for t in r] for s, rounds in raw.items()}
        table.add(f"SAS search in the server, {label}: p50", {s: statistics.median(v) for s, v in times.items()},
                  "ms", WITHIN_1_5)
        table.add(f"SAS search in the server, {label}: p95", {s: percentile(v, 0.95) for s, v in times.items()},
                  "ms", WITHIN_1_5, "p95 ≤ 50 ms" if size == 25 and not cpts else "")
        table.add(f"SAS search statement raw, {label}: p50", {s: statistics.median(v) for s, v in raw.items()},
                  "ms", NO_GROWTH_TARGET)
        table.note(f"{label}: slots per answer " + ", ".join(f"{s}× {v:.0f}" for s, v in slots.items()))
        if size == 1:
            hours = WINDOW.total_seconds() / 3600
            print("ANS test kit: one-practitioner search over %.0f h, p95 in the server: " % hours
                  + ", ".join(f"{s}× {percentile(v, 0.95):.1f} ms" for s, v in times.items()) + " (required: < 1 s)",
                  flush=True)
    for load in loads.values():
        load.close()


def gunicorn_round(server: Gunicorn, paths: list[str]) -> tuple[float, dict]:
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        local: dict[int, int] = {}
        for path in chunk:
            conn.request("GET", path, headers=SAS_HEADERS)
            response = conn.getresponse()
            response.read()
            local[response.status] = local.get(response.status, 0) + 1
        conn.close()
        with lock:
            for status, count in local.items():
                statuses[status] = statuses.get(status, 0) + count

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, [paths[i::CLIENTS] for i in range(CLIENTS)]))
    return len(paths) / (time.perf_counter() - started), statuses


def bench_gunicorn(table: ScaleTable, built: dict, searches: int, workers: int | None) -> None:
    os.environ.update(SNP_SAS_CLIENT_CN=SAS_CN, SNP_SAS_CLIENT_OU=SAS_OU)
    servers = {scale: Gunicorn(b.url, workers) for scale, b in built.items()}
    try:
        paths = {s: [search_path(rpps, cpts=False) for rpps in
                     samples(random.Random(8), b.summary["practitioners"], 25, searches)] for s, b in built.items()}
        for scale, server in servers.items():  # each worker's first requests: connections, caches
            gunicorn_round(server, paths[scale][:WARM_UP * CLIENTS // 4])
        rounds = in_turns({s: (lambda n, s=s: gunicorn_round(servers[s], paths[s][n::ROUNDS])) for s in servers},
                          ROUNDS)
    finally:
        for server in servers.values():
            server.stop()
    table.add(f"SAS searches/s through gunicorn, {CLIENTS} clients, 25 practitioners",
              {s: statistics.median(r[0] for r in rs) for s, rs in rounds.items()}, "/s", RATE_WITHIN_1_5,
              "≥ 100/s")
    table.note("gunicorn answers: " + "; ".join(f"{s}× " + str([r[1] for r in rs]) for s, rs in rounds.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: config/gunicorn_conf.py, cores + 1)")
    parser.add_argument("--test-kit", action="store_true",
                        help="only the ANS test kit's case: one practitioner over 72 h, in the server")
    args = parser.parse_args()
    requests, searches = (200, 1000) if args.quick else (1000, 5000)
    table = ScaleTable("SAS search, PostgreSQL", args.scales)
    with regions(args.scales, postgresql=True, quick=args.quick, rebuild=args.rebuild) as built:
        bench_in_server(table, built, requests, CASES[:1] if args.test_kit else CASES)
        if not args.test_kit:
            bench_gunicorn(table, built, searches, args.workers)
    table.note(f"{requests} searches per case and scale in {ROUNDS} alternating rounds; practitioners drawn from "
               "the whole region")
    table.print_and_keep()


if __name__ == "__main__":
    main()
