"""Booking benchmarks (SPEC section 6), printed as figures, never asserted.

1. Slot search p95 in the server (time spent in the WSGI application, requests sent by the
   Flask test client with a bearer token, JSON out) at region scale, on SQLite and PostgreSQL,
   next to the raw SQL of the same query.
2. Booking throughput on PostgreSQL: 32 concurrent HTTP clients against gunicorn,
   as a ratio of the same SQL run raw through psycopg: the statements of one booking request
   (token and scope look-ups, slot read, guarded UPDATE, inserts, commits, the pool's pre-ping)
   are captured at the engine and replayed per slot on 32 psycopg connections. The old
   4-statement baseline (the writes alone) is printed next to it. HTTP and replay run in
   three alternating rounds and the medians are compared: the shared machine's speed drifts.
3. A race: 10,000 booking attempts on 100 slots through gunicorn; counts double bookings.

    python benchmarks/bench_booking.py            # region scale (a few minutes on 2 cores)
    python benchmarks/bench_booking.py --quick    # 200 practitioners, 100,000 slots
"""
from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from region_data import ROOT, build_region, start_postgres

from snp_service import accounts, create_app
from snp_service.extensions import db
from snp_service.models import User
from snp_service.timeutil import utcnow
from tests.pg_cluster import _free_port

CLIENTS = 32
ROUNDS = 3
WARM_UP = 100
PATIENT = {"first_name": "Bench", "last_name": "Patient", "birth_date": "1970-05-05", "phone": "0612345678",
           "has_treating_doctor": "no"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def regulator_token(app, summary: dict) -> tuple[str, list[int]]:
    area, cpts_ids = next(iter(summary["areas"].items()))
    with app.app_context():
        user = db.session.query(User).filter_by(email=summary["regulator_emails"][area]).one()
        secret, _ = accounts.issue_token(user, timedelta(hours=2))
    return secret, cpts_ids


def search_params(rng: random.Random, communes: list[str]) -> dict:
    params = {"commune": rng.choice(communes), "radius_km": rng.choice([10, 20, 30])}
    if rng.random() < 0.3:
        params["treating_rpps"] = f"{10_000_000_000 + rng.randint(1, 2000):011d}"
    return params


def bench_search(url: str, summary: dict, requests: int) -> dict:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    gc.freeze()  # as wsgi.py does in the server after start-up
    server_times = time_in_server(app)
    token, cpts_ids = regulator_token(app, summary)
    communes = [insee for insee, cpts_id in summary["commune_cpts"].items() if cpts_id in cpts_ids]
    client, headers, rng = app.test_client(), {"Authorization": f"Bearer {token}"}, random.Random(7)
    sizes = []
    for n in range(requests + 20):
        response = client.get("/api/v1/slots/search", query_string=search_params(rng, communes), headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        sizes.append(len(response.get_json()["results"]))
    timings = server_times[20:]  # warm-up: first queries, caches
    raw = bench_raw_search(app, communes, cpts_ids, requests)
    with app.app_context():
        db.engine.dispose()
    return {"p50": statistics.median(timings), "p95": percentile(timings, 0.95), "results": statistics.mean(sizes[20:]),
            "raw_p50": statistics.median(raw), "raw_p95": percentile(raw, 0.95)}


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


def bench_raw_search(app, communes: list[str], cpts_ids: list[int], requests: int) -> list[float]:
    """The search's own statement, bound and run on a plain engine connection: no ORM, no HTTP, no Python after."""
    from snp_service import search

    statement = search._statement(scoped=True, near="commune", practitioner=None, by_mode=False)
    timings = []
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            rng = random.Random(7)
            for n in range(requests + 20):
                params = search_params(rng, communes)
                now = utcnow()
                started = time.perf_counter()
                conn.execute(statement, {"start": now, "end": now + timedelta(hours=48), "limit": 20,
                                         "scope": sorted(cpts_ids), "insee": params["commune"],
                                         "radius_km": float(params["radius_km"]), "mode": None,
                                         "rpps": params.get("treating_rpps"), "practitioner_id": None}).fetchall()
                if n >= 20:
                    timings.append((time.perf_counter() - started) * 1000)
    return timings


class Gunicorn:
    def __init__(self, url: str, workers: int | None, threads: int):
        # The production settings (config/gunicorn_conf.py: sync workers); threads > 1 switches to gthread
        # (threads <= 15: SQLAlchemy's default pool, 5 + 10 overflow, serves every thread).
        self.port = _free_port()
        env = os.environ | {"SNP_CONFIG": "development", "SNP_DATABASE_URL": url, "SNP_SMS_BACKEND": "memory",
                            "SNP_SECRET_KEY": "bench-secret-key-bench-secret-key-0123"}
        command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn_conf.py", "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning"]
        if workers:
            command += ["-w", str(workers)]
        if threads > 1:
            command += ["-k", "gthread", "--threads", str(threads)]
        self.process = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def peak_rss_mib(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of the gunicorn master and each worker, in MiB."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        peaks = {}
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def free_slot_ids(url: str, cpts_ids: list[int], count: int) -> list[int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        rows = conn.execute(
            "SELECT slot.id FROM slot JOIN practitioner_cpts pc ON pc.practitioner_id = slot.practitioner_id "
            "WHERE slot.status = 'free' AND slot.start_at > now() + interval '1 hour' AND pc.cpts_id = ANY(%s) "
            "ORDER BY slot.id LIMIT %s", (cpts_ids, count)).fetchall()
    return [r[0] for r in rows]


def http_bookings(port: int, token: str, slot_ids: list[int]) -> tuple[float, Counter]:
    """Book ``slot_ids`` with CLIENTS keep-alive connections; bookings per second and status counts."""
    chunks = [slot_ids[i::CLIENTS] for i in range(CLIENTS)]
    statuses: Counter = Counter()
    lock = threading.Lock()

    def client(chunk: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        local: Counter = Counter()
        for slot_id in chunk:
            body = {"slot_id": slot_id, "patient": PATIENT, "channel": "116117", "notify_patient": False}
            conn.request("POST", "/api/v1/bookings", json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
            local[response.status] += 1
        conn.close()
        with lock:
            statuses.update(local)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, chunks))
    return sum(statuses[s] for s in (200, 201, 409)) / (time.perf_counter() - started), statuses


MINIMAL_BOOKING = (
    "UPDATE slot SET status = 'booked' WHERE id = %s AND status = 'free' AND start_at > now()",
    "INSERT INTO patient (first_name, last_name, birth_date, phone, has_treating_doctor) "
    "VALUES ('Bench', 'Patient', '1970-05-05', '+33612345678', 'no') RETURNING id",
    "INSERT INTO booking (slot_id, patient_id, booked_by_id, channel, status, has_treating_doctor, "
    "by_treating_doctor, created_at) VALUES (%s, %s, 1, '116117', 'booked', 'no', false, now()) RETURNING id",
    "INSERT INTO audit_event (at, actor_id, actor_label, action, object_type, object_id, after) "
    "VALUES (now(), 1, 'user:1', 'booking.create', 'booking', %s, '{}')",
)


def minimal_raw_bookings(url: str, slot_ids: list[int]) -> float:
    """Only the writes (claim, patient, booking, audit), one transaction per booking: a lower bound of the work."""
    import psycopg

    def client(chunk: list[int]) -> None:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            for slot_id in chunk:
                with conn.transaction():
                    conn.execute(MINIMAL_BOOKING[0], (slot_id,))
                    patient_id = conn.execute(MINIMAL_BOOKING[1]).fetchone()[0]
                    booking_id = conn.execute(MINIMAL_BOOKING[2], (slot_id, patient_id)).fetchone()[0]
                    conn.execute(MINIMAL_BOOKING[3], (booking_id,))

    return _run_clients(client, slot_ids)


def _run_clients(client, slot_ids: list[int]) -> float:
    chunks = [slot_ids[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, chunks))
    return len(slot_ids) / (time.perf_counter() - started)


# Parameters of the captured statements holding the ids that change from one booking to the next.
_BOOKING_ID_KEYS, _PATIENT_ID_KEYS = ("object_id", "booking_id"), ("patient_id",)


def capture_booking(url: str, token: str, slot_id: int) -> list[tuple]:
    """The statements one POST /api/v1/bookings executes, captured in order at the engine.

    One booking is made through the test client with the server's configuration; every
    cursor execution (and the pool's pre-ping, and each commit/rollback) is recorded. Steps are
    ``("sql", statement, params, returns)``, ``("ping",)``, ``("commit",)`` or ``("rollback",)``; in ``params``
    the slot, patient and booking ids are replaced by markers that the replay fills in.
    Parameters stay in memory: they carry patient data and are never printed.
    """
    from sqlalchemy import event, text

    app = create_app({"CONFIG_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "SMS_BACKEND": "memory",
                      "SECRET_KEY": "bench-secret-key-bench-secret-key-0123"})
    steps: list[list] = []
    with app.app_context():
        engine = db.engine
        pre_ping = engine.pool._pre_ping

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            steps.append(["sql", statement, parameters])

        def on_checkout(dbapi_connection, record, proxy):
            if pre_ping:  # the pool ran its liveness query on the connection before handing it out
                steps.append(["ping"])

        listeners = [(engine, "before_cursor_execute", on_execute), (engine, "commit", lambda c: steps.append(["commit"])),
                     (engine, "rollback", lambda c: steps.append(["rollback"])), (engine.pool, "checkout", on_checkout)]
        for target, name, fn in listeners:
            event.listen(target, name, fn)
        client = app.test_client()
        body = {"slot_id": slot_id, "patient": PATIENT, "channel": "116117", "notify_patient": False}
        response = client.post("/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {token}"})
        for target, name, fn in listeners:
            event.remove(target, name, fn)
        assert response.status_code == 201, response.status_code
        booking_id = response.get_json()["id"]
        with engine.connect() as conn:
            patient_id = conn.execute(text("SELECT patient_id FROM booking WHERE id = :id"), {"id": booking_id}).scalar()
        engine.dispose()
    return [_replayable(step, slot_id, patient_id, booking_id) for step in steps]


def _replayable(step: list, slot_id: int, patient_id: int, booking_id: int) -> tuple:
    if step[0] != "sql":
        return tuple(step)
    _, statement, params = step
    if isinstance(params, (list, tuple)) and params and isinstance(params[0], dict):
        raise RuntimeError("executemany in a booking request: extend the replay")
    marked = None
    if isinstance(params, dict):
        marked = {}
        for key, value in params.items():
            base = key.rstrip("_0123456789")
            if base in _BOOKING_ID_KEYS and value == booking_id:
                marked[key] = ("$id", "booking")
            elif base in _PATIENT_ID_KEYS and value == patient_id:
                marked[key] = ("$id", "patient")
            elif value == slot_id and not isinstance(value, bool):
                marked[key] = ("$id", "slot")
            else:
                marked[key] = value
    head = statement.lstrip().upper()
    returns = next((table for table in ("patient", "booking") if head.startswith(f"INSERT INTO {table.upper()} ")), None)
    return ("sql", statement, marked, returns)


def describe(steps: list[tuple]) -> str:
    """The captured statements by kind (no parameters: they hold patient data)."""
    kinds = []
    for step in steps:
        if step[0] != "sql":
            kinds.append("pre-ping" if step[0] == "ping" else step[0].upper())
            continue
        words = step[1].split()
        verb = words[0].upper()
        table = {"SELECT": next((w.rstrip(",") for w, p in zip(words[1:], words) if p.upper() == "FROM"), "?"),
                 "INSERT": words[2] if len(words) > 2 else "?", "UPDATE": words[1]}.get(verb, "")
        kinds.append(f"{verb} {table}".strip())
    return ", ".join(kinds)


def replayed_bookings(url: str, steps: list[tuple], slot_ids: list[int]) -> float:
    """The captured statements of one booking, replayed per slot on CLIENTS psycopg connections: bookings per second."""
    import psycopg

    def client(chunk: list[int]) -> None:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            for slot_id in chunk:
                ids = {"slot": slot_id}
                for step in steps:
                    if step[0] == "commit":
                        conn.commit()
                    elif step[0] == "rollback":
                        conn.rollback()
                    elif step[0] == "ping":  # as SQLAlchemy's psycopg dialect pings: outside a transaction
                        conn.autocommit = True
                        conn.execute("SELECT 1").fetchall()
                        conn.autocommit = False
                    else:
                        _, statement, params, returns = step
                        if params is not None:
                            params = {k: ids[v[1]] if isinstance(v, tuple) and v[:1] == ("$id",) else v
                                      for k, v in params.items()}
                        cursor = conn.execute(statement, params)
                        if returns:
                            ids[returns] = cursor.fetchone()[0]
                        elif cursor.description is not None:
                            cursor.fetchall()
                conn.rollback()  # the pool's reset on check-in (a no-op after the commit)

    return _run_clients(client, slot_ids)


def alternating_rounds(port: int, token: str, url: str, steps: list[tuple], http_slots: list[int],
                       raw_slots: list[int]) -> tuple[float, float, Counter]:
    """HTTP and raw replay in turns, so that a slow spell of the shared machine weighs on both; medians."""
    http_rates, raw_rates, statuses = [], [], Counter()
    for n in range(ROUNDS):
        rate, answers = http_bookings(port, token, http_slots[n::ROUNDS])
        http_rates.append(rate)
        statuses.update(answers)
        raw_rates.append(replayed_bookings(url, steps, raw_slots[n::ROUNDS]))
        print(f"  round {n + 1}: gunicorn {rate:.0f}/s, raw {raw_rates[-1]:.0f}/s", flush=True)
    return statistics.median(http_rates), statistics.median(raw_rates), statuses


def race(port: int, token: str, slot_ids: list[int], attempts: int) -> Counter:
    rng = random.Random(3)
    return http_bookings(port, token, [rng.choice(slot_ids) for _ in range(attempts)])[1]


def double_bookings(url: str, slot_ids: list[int]) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        doubles = conn.execute("SELECT count(*) FROM (SELECT slot_id FROM booking WHERE status = 'booked' "
                               "AND slot_id = ANY(%s) GROUP BY slot_id HAVING count(*) > 1) d", (slot_ids,)).fetchone()[0]
        booked = conn.execute("SELECT count(*) FROM booking WHERE status = 'booked' AND slot_id = ANY(%s)",
                              (slot_ids,)).fetchone()[0]
    return doubles, booked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller region, fewer requests")
    parser.add_argument("--postgresql-only", action="store_true", help="skip the SQLite search run")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: config/gunicorn_conf.py, cores + 1)")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker (default 1: sync workers)")
    args = parser.parse_args()
    scale = dict(practitioners=200, slots=100_000, bookings=40_000) if args.quick else {}
    searches, bookings, attempts = (200, 800, 2000) if args.quick else (1000, 3000, 10_000)
    print(f"scale: {scale or 'region (2,000 practitioners, 1,000,000 slots, 400,000 bookings)'}; cpus: {os.cpu_count()}")

    if not args.postgresql_only:
        bench_sqlite(scale, searches)
    cluster, pg_url = start_postgres()
    try:
        summary = build_region(pg_url, **scale)
        print(f"PostgreSQL region built in {summary['seconds']} s")
        report_search("PostgreSQL", bench_search(pg_url, summary, searches))
        bench_writes(pg_url, summary, bookings, attempts, args.workers, args.threads)
    finally:
        cluster.stop()


def bench_sqlite(scale: dict, searches: int) -> None:
    path = Path("/tmp/snp-bench-booking.sqlite3")
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    summary = build_region(url, **scale)
    print(f"SQLite region built in {summary['seconds']} s")
    report_search("SQLite", bench_search(url, summary, searches))
    path.unlink(missing_ok=True)


def report_search(name: str, figures: dict) -> None:
    print(f"search {name}: server p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms "
          f"({figures['results']:.0f} results/answer); raw SQL p50 {figures['raw_p50']:.2f} ms, "
          f"p95 {figures['raw_p95']:.2f} ms")


def bench_writes(pg_url: str, summary: dict, bookings: int, attempts: int, workers: int | None, threads: int) -> None:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": pg_url})
    token, cpts_ids = regulator_token(app, summary)
    with app.app_context():
        db.engine.dispose()
    slots = free_slot_ids(pg_url, cpts_ids, 3 * bookings + 101)
    http_slots, raw_slots, minimal_slots = (slots[i * bookings:(i + 1) * bookings] for i in range(3))
    race_slots, capture_slot = slots[3 * bookings:3 * bookings + 100], slots[-1]
    steps = capture_booking(pg_url, token, capture_slot)
    print(f"one booking request executes {sum(s[0] in ('sql', 'ping') for s in steps)} statements + "
          f"{sum(s[0] == 'commit' for s in steps)} commits: {describe(steps)}")
    server = Gunicorn(pg_url, workers=workers, threads=threads)
    try:
        http_bookings(server.port, token, minimal_slots[:WARM_UP])  # workers' first requests: imports, caches
        http_rate, raw_rate, statuses = alternating_rounds(server.port, token, pg_url, steps, http_slots, raw_slots)
        minimal_rate = minimal_raw_bookings(pg_url, minimal_slots[WARM_UP:])
        kind = f"{threads} gthread threads" if threads > 1 else "sync"
        print(f"booking throughput ({CLIENTS} clients, gunicorn {workers or os.cpu_count() + 1} workers, {kind}), "
              f"medians of {ROUNDS} alternating rounds: gunicorn {http_rate:.0f}/s {dict(statuses)}; "
              f"the same SQL replayed raw through psycopg {raw_rate:.0f}/s, ratio {100 * http_rate / raw_rate:.0f} % "
              f"(SPEC); minimal 4-statement writes {minimal_rate:.0f}/s, ratio {100 * http_rate / minimal_rate:.0f} %")
        answers = race(server.port, token, race_slots, attempts)
        doubles, booked = double_bookings(pg_url, race_slots)
        print(f"race: {attempts} attempts on {len(race_slots)} slots -> {dict(answers)}; "
              f"active bookings {booked}, slots booked twice {doubles}")
        peaks = server.peak_rss_mib()
        print("server peak RSS after the load (SPEC <= 200 MB per process): "
              + ", ".join(f"pid {pid}: {mib:.0f} MiB" for pid, mib in peaks.items()))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
