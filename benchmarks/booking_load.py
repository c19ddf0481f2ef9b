"""Load for the booking benchmarks: gunicorn, HTTP clients, and the booking's own SQL captured and replayed raw.

"The same SQL run raw" (SPEC section 6) is exactly what one booking request
executes: one booking is made through the test client with the server's
configuration, every cursor execution (the pool's pre-ping, each commit or
rollback too) is recorded at the engine, and the list is replayed per slot on
psycopg connections with the slot, patient and booking ids substituted.
Parameters stay in memory: they carry patient data and are never printed.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from region_data import ROOT

from snp_service import create_app
from snp_service.core.extensions import db
from tests.pg_cluster import _free_port

CLIENTS = 32
PATIENT = {"first_name": "Bench", "last_name": "Patient", "birth_date": "1970-05-05", "phone": "0612345678",
           "has_treating_doctor": "no"}
SERVER_CONFIG = {"SNP_CONFIG": "development", "SNP_SMS_BACKEND": "memory",
                 "SNP_SECRET_KEY": "bench-secret-key-bench-secret-key-0123"}


def booking_body(slot_id: int) -> dict:
    return {"slot_id": slot_id, "patient": PATIENT, "channel": "116117", "notify_patient": False}


def driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


class Gunicorn:
    """The production server settings (config/gunicorn_conf.py: sync workers) on ``url``, from the code in ``code``."""

    def __init__(self, url: str, workers: int | None = None, threads: int = 1, code: Path = ROOT):
        self.port = _free_port()
        env = os.environ | SERVER_CONFIG | {"SNP_DATABASE_URL": url}
        command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn_conf.py", "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning"]
        if workers:
            command += ["-w", str(workers)]
        if threads > 1:  # gthread (threads <= 15: SQLAlchemy's default pool, 5 + 10 overflow, serves every thread)
            command += ["-k", "gthread", "--threads", str(threads)]
        env["PYTHONPATH"] = str(code)
        self.process = subprocess.Popen([*command, "wsgi:app"], cwd=code, env=env)
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

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid] + ([int(pid) for pid in children.read_text().split()] if children.exists() else [])

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far (``/proc``)."""
        return sum(_process_cpu(pid) for pid in self.pids())

    def peak_rss_mib(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of the gunicorn master and each worker, in MiB."""
        peaks = {}
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def _process_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (``/proc``), with ``children`` those of its finished, reaped children too."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU spent by the database server (every backend, finished ones included) and by this process.

    Around a round of bookings, with the server's own counter, it gives what one booking costs
    in CPU all processes together. On a machine other work shares, a round's throughput follows
    the share of the cores the round's processes win: 32 raw replay backends win more of it than
    3 gunicorn workers do. The CPU a booking costs does not depend on that share, so the ratio of
    the two costs is what the throughput ratio becomes when both runs have the cores to themselves.
    """

    def __init__(self, postmaster_pid: int):
        self.postmaster = postmaster_pid

    def database_cpu(self) -> float:
        children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        total = _process_cpu(self.postmaster, children=True)
        for pid in children:
            try:
                total += _process_cpu(int(pid))
            except FileNotFoundError:  # ended between the two reads: counted by the postmaster next time
                pass
        return total

    def snapshot(self) -> tuple[float, float]:
        own = os.times()
        return self.database_cpu(), own.user + own.system

    @staticmethod
    def spent(before: tuple[float, float], after: tuple[float, float]) -> float:
        return sum(a - b for a, b in zip(after, before))


def free_slot_ids(url: str, cpts_ids: list[int], count: int) -> list[int]:
    import psycopg

    with psycopg.connect(driver_url(url)) as conn:
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
            conn.request("POST", "/api/v1/bookings", json.dumps(booking_body(slot_id)), headers)
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


def run_clients(client, slot_ids: list[int]) -> float:
    chunks = [slot_ids[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, chunks))
    return len(slot_ids) / (time.perf_counter() - started)


# Parameters of the captured statements holding the ids that change from one booking to the next.
_BOOKING_ID_KEYS, _PATIENT_ID_KEYS = ("object_id", "booking_id"), ("patient_id",)


def capture_booking(url: str, token: str, slot_id: int) -> list[tuple]:
    """The statements one POST /api/v1/bookings executes, captured in order at the engine.

    Steps are ``("sql", statement, params, returns)``, ``("ping",)``, ``("commit",)`` or ``("rollback",)``;
    in ``params`` the slot, patient and booking ids are replaced by markers that the replay fills in.
    """
    from sqlalchemy import event, text

    app = create_app({"CONFIG_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "SMS_BACKEND": "memory",
                      "SECRET_KEY": SERVER_CONFIG["SNP_SECRET_KEY"]})
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
        response = client.post("/api/v1/bookings", json=booking_body(slot_id), headers={"Authorization": f"Bearer {token}"})
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


def statement_count(steps: list[tuple]) -> tuple[int, int]:
    """(statements, commits) of a captured booking; the pre-ping counts as a statement."""
    return sum(s[0] in ("sql", "ping") for s in steps), sum(s[0] == "commit" for s in steps)


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
        with psycopg.connect(driver_url(url)) as conn:
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

    return run_clients(client, slot_ids)


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
        with psycopg.connect(driver_url(url)) as conn:
            for slot_id in chunk:
                with conn.transaction():
                    conn.execute(MINIMAL_BOOKING[0], (slot_id,))
                    patient_id = conn.execute(MINIMAL_BOOKING[1]).fetchone()[0]
                    booking_id = conn.execute(MINIMAL_BOOKING[2], (slot_id, patient_id)).fetchone()[0]
                    conn.execute(MINIMAL_BOOKING[3], (booking_id,))

    return run_clients(client, slot_ids)


def race(port: int, token: str, slot_ids: list[int], attempts: int) -> Counter:
    rng = random.Random(3)
    return http_bookings(port, token, [rng.choice(slot_ids) for _ in range(attempts)])[1]


def double_bookings(url: str, slot_ids: list[int]) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(driver_url(url)) as conn:
        doubles = conn.execute("SELECT count(*) FROM (SELECT slot_id FROM booking WHERE status = 'booked' "
                               "AND slot_id = ANY(%s) GROUP BY slot_id HAVING count(*) > 1) d", (slot_ids,)).fetchone()[0]
        booked = conn.execute("SELECT count(*) FROM booking WHERE status = 'booked' AND slot_id = ANY(%s)",
                              (slot_ids,)).fetchone()[0]
    return doubles, booked
