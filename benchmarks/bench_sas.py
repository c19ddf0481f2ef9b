"""SAS platform slot search benchmarks (SPEC sections 6 and 7), printed as figures, never asserted.

1. Time in the server (the WSGI application, body included; requests sent by the Flask test client with
   the proxy's client-certificate headers) of the platform's search over today and the next two days,
   for 1 and for 25 practitioners (INT_R01), and for 25 with the CPTS includes (INT_R04), at region scale
   on PostgreSQL; next to it, the search's one SQL statement bound and run raw on a plain connection.
   SPEC: p95 <= 50 ms for 25 practitioners in the server.
2. Searches per second through gunicorn (config/gunicorn_conf.py: sync workers, cores + 1) with 8
   concurrent keep-alive clients, 25 practitioners each. SPEC: >= 100 searches/s.

    python benchmarks/bench_sas.py            # region scale (2,000 practitioners, 1,000,000 slots)
    python benchmarks/bench_sas.py --quick    # 200 practitioners, 100,000 slots, fewer requests
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

from bench_booking import Gunicorn, percentile, time_in_server
from region_data import build_region, start_postgres

from snp_service import create_app
from snp_service.extensions import db
from snp_service.sas import search as sas_search
from snp_service.timeutil import PARIS, utcnow

CLIENTS = 8
WARM_UP = 20
SAS_CN, SAS_OU = "sas-platform.bench", "Plateforme SAS"
SAS_HEADERS = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": f"CN={SAS_CN},OU={SAS_OU},O=ANS,C=FR"}
WINDOW = timedelta(days=3)


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


def bench_in_server(url: str, practitioners: int, size: int, cpts: bool, requests: int) -> dict:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "SAS_CLIENT_CN": SAS_CN,
                      "SAS_CLIENT_OU": SAS_OU})
    gc.freeze()  # as wsgi.py does in the server after start-up
    server_times = time_in_server(app)
    client, sizes = app.test_client(), []
    for rpps in samples(random.Random(size), practitioners, size, requests + WARM_UP):
        response = client.get(search_path(rpps, cpts), headers=SAS_HEADERS)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        sizes.append(response.get_json()["total"])
    timings = server_times[WARM_UP:]
    raw = bench_raw(app, practitioners, size, cpts, requests)
    with app.app_context():
        db.engine.dispose()
    return {"p50": statistics.median(timings), "p95": percentile(timings, 0.95), "slots": statistics.mean(sizes),
            "raw_p50": statistics.median(raw), "raw_p95": percentile(raw, 0.95)}


def bench_raw(app, practitioners: int, size: int, cpts: bool, requests: int) -> list[float]:
    """The search's one statement, bound and run on a plain autocommit connection: no HTTP, no FHIR."""
    statement = sas_search._statement(with_cpts=cpts)
    timings = []
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for n, rpps in enumerate(samples(random.Random(size), practitioners, size, requests + WARM_UP)):
            now = utcnow()
            started = time.perf_counter()
            conn.execute(statement, {"rpps": rpps, "start_from": now, "start_before": now + WINDOW,
                                     "now": now}).fetchall()
            if n >= WARM_UP:
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def bench_gunicorn(url: str, practitioners: int, searches: int, workers: int | None) -> tuple[float, dict]:
    os.environ.update(SNP_SAS_CLIENT_CN=SAS_CN, SNP_SAS_CLIENT_OU=SAS_OU)
    server = Gunicorn(url, workers, threads=1)
    paths = [search_path(rpps, cpts=False) for rpps in samples(random.Random(8), practitioners, 25, searches)]
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

    try:
        client(paths[:WARM_UP * CLIENTS // 4])  # each worker's first requests: connections, caches
        statuses.clear()
        chunks = [paths[i::CLIENTS] for i in range(CLIENTS)]
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, chunks))
        rate = len(paths) / (time.perf_counter() - started)
    finally:
        server.stop()
    return rate, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller region, fewer requests")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: config/gunicorn_conf.py, cores + 1)")
    args = parser.parse_args()
    scale = dict(practitioners=200, slots=100_000, bookings=40_000) if args.quick else {}
    requests, searches = (200, 1000) if args.quick else (1000, 5000)
    print(f"scale: {scale or 'region (2,000 practitioners, 1,000,000 slots, 400,000 bookings)'}; cpus: {os.cpu_count()}")
    cluster, url = start_postgres()
    try:
        summary = build_region(url, **scale)
        practitioners = summary["practitioners"]
        print(f"PostgreSQL region built in {summary['seconds']} s")
        for label, size, cpts in (("INT_R01, 1 practitioner", 1, False), ("INT_R01, 25 practitioners", 25, False),
                                  ("INT_R04, 25 practitioners", 25, True)):
            figures = bench_in_server(url, practitioners, size, cpts, requests)
            print(f"{label}, 3 days: server p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms "
                  f"({figures['slots']:.0f} slots/answer); raw SQL p50 {figures['raw_p50']:.2f} ms, "
                  f"p95 {figures['raw_p95']:.2f} ms", flush=True)
        rate, statuses = bench_gunicorn(url, practitioners, searches, args.workers)
        print(f"gunicorn, {CLIENTS} clients, 25 practitioners, 3 days: {rate:.0f} searches/s (statuses {statuses})")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
