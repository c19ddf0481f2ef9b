"""History import (SPEC section 4, issue 28 finding 9): 1k to 50k CSV rows, on SQLite and PostgreSQL.

The documented limit is 50,000 rows, and a request must finish within gunicorn's 30 s. Each size is
timed twice, each time in a fresh database holding one CPTS of ``--practitioners`` GPs:

- ``service``: ``POST /api/v1/imports/history`` through the test client (CSV parsing, every check,
  the overlap check, the insert, the supplement ledger of the period, the audit event);
- ``raw``: the same CSV parsed with ``csv`` and its slots and bookings inserted through the driver in one
  transaction (sqlite3 ``executemany``, psycopg ``COPY``), with no check of the service's own: the floor,
  measured in the same run (the database's constraints, triggers and indexes are the same).

With ``--prefilled`` the period already holds as many live slots as the file, interleaved with the
file's (the file's at :00 and :30, the stored ones at :15 and :45): every overlap check then meets
its worst neighbourhood. Each measurement runs in its own process, stopped after ``--limit`` seconds
(reported as "> limit"). Figures are printed, never asserted.

    python benchmarks/bench_history_import.py                     # SQLite, 1k/6k/14k/50k rows
    python benchmarks/bench_history_import.py --postgresql        # a throwaway PostgreSQL cluster
    python benchmarks/bench_history_import.py --prefilled --sizes 14000,50000
    python benchmarks/bench_history_import.py --practitioners 1   # one GP's years: the worst case of a scan
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADER = "rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor"
PARIS = ZoneInfo("Europe/Paris")
LAST_DAY = datetime(2025, 9, 30, tzinfo=PARIS)  # the file's slots are the days up to this one, all in the past
SLOTS_PER_DAY = 24  # 08:00-20:00 Paris, one 15-minute slot at :00 and one at :30 of each hour
CHANNELS = ("116117", "116117", "116117", "sas", "15", "other")


def rpps(n: int) -> str:
    return f"{30000000000 + n:011d}"


def slot_start(index: int, per_practitioner: int, offset_minutes: int = 0) -> datetime:
    """The ``index``-th slot of a practitioner holding ``per_practitioner`` of them, the last day being LAST_DAY."""
    day, position = divmod(index, SLOTS_PER_DAY)
    local = LAST_DAY - timedelta(days=(per_practitioner - 1) // SLOTS_PER_DAY - day)
    return local.replace(hour=8 + position // 2, minute=30 * (position % 2) + offset_minutes)


def history_csv(rows: int, practitioners: int, seed: int = 1) -> str:
    """A season's CSV: each practitioner's slots back to back up to LAST_DAY, 60 % booked, 5 % withdrawn."""
    rng = random.Random(seed)
    lines = [HEADER]
    per_practitioner = -(-rows // practitioners)
    for n in range(rows):
        practitioner, index = n % practitioners, n // practitioners
        start = slot_start(index, per_practitioner)
        end = start + timedelta(minutes=15)
        draw = rng.random()
        if draw < 0.05:
            lines.append(f"{rpps(practitioner)},{start.isoformat()},{end.isoformat()},office,1,0,,,,")
        elif draw < 0.65:
            outcome = "honored" if rng.random() < 0.9 else "no_show"
            booked_at = start - timedelta(hours=rng.randint(1, 30))
            treating = rng.choice(("yes", "no", "unknown"))
            lines.append(f"{rpps(practitioner)},{start.isoformat()},{end.isoformat()},office,0,1,"
                         f"{booked_at.isoformat()},{rng.choice(CHANNELS)},{outcome},{treating}")
        else:
            lines.append(f"{rpps(practitioner)},{start.isoformat()},{end.isoformat()},office,0,0,,,,")
    return "\n".join(lines) + "\n"


# --- one measurement, in its own process ----------------------------------------------------------------------


def measure(kind: str, rows: int, practitioners: int, url: str, prefilled: bool) -> float:
    from snp_service.accounts import passwords, tokens
    from snp_service import create_app
    from snp_service.core.extensions import db
    from snp_service.models import Cpts, Practitioner, Slot, User

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    body = history_csv(rows, practitioners)
    with app.app_context():
        db.create_all()
        cpts = Cpts(name="CPTS Banc", population=60_000)
        members = [Practitioner(rpps=rpps(n), first_name="Banc", last_name=f"Medecin{n}", cpts=[cpts])
                   for n in range(practitioners)]
        coordinator = User(email="coordination@banc.example", role="coordinator", cpts=[cpts],
                           password_hash=passwords.hash_password("benchmark-password"))
        db.session.add_all([cpts, coordinator, *members])
        db.session.commit()
        if prefilled:  # as many live slots as the file, at :15 and :45: interleaved, never overlapping
            per_practitioner = -(-rows // practitioners)
            starts = [slot_start(n // practitioners, per_practitioner, 15) for n in range(rows)]
            db.session.execute(Slot.__table__.insert(), [
                {"practitioner_id": members[n % practitioners].id, "start_at": start,
                 "end_at": start + timedelta(minutes=15), "mode": "office", "status": "expired",
                 "created_at": datetime.now(timezone.utc), "updated_at": datetime.now(timezone.utc)}
                for n, start in enumerate(starts)])
            db.session.commit()
        token = tokens.issue_token(coordinator, timedelta(hours=1))[0]
        cpts_id, ids = cpts.id, {rpps(n): members[n].id for n in range(practitioners)}
        db.session.remove()
        if kind == "raw":
            db.engine.dispose()
            return _raw_insert(url, body, ids)
        client = app.test_client()
        started = time.perf_counter()
        answer = client.post(f"/api/v1/imports/history?cpts_id={cpts_id}", data=body.encode(), content_type="text/csv",
                             headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - started
        assert answer.status_code == 201, answer.get_data(as_text=True)[:500]
        assert answer.get_json()["slots"] == rows
        db.engine.dispose()
        return elapsed


def _raw_insert(url: str, body: str, practitioner_ids: dict[str, int]) -> float:
    """The floor: parse the CSV and insert its rows through the driver, one transaction, no check."""
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(body))
    next(reader)
    slots, bookings = [], []
    now = datetime.now(timezone.utc)
    sqlite = url.startswith("sqlite")
    to_db = (lambda moment: moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")) if sqlite else (
        lambda moment: moment)
    for n, (number, start, end, mode, withdrawn, booked, booked_at, channel, outcome, treating) in enumerate(reader, 1):
        status = "withdrawn" if withdrawn == "1" else ("booked" if booked == "1" else "expired")
        slots.append((n, practitioner_ids[number], to_db(datetime.fromisoformat(start)),
                      to_db(datetime.fromisoformat(end)), mode, status, to_db(now), to_db(now)))
        if booked == "1":
            bookings.append((n, channel, outcome or None, treating or None, to_db(datetime.fromisoformat(booked_at))))
    if sqlite:
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        offset = connection.execute("SELECT coalesce(max(id), 0) FROM slot").fetchone()[0]
        connection.executemany("INSERT INTO slot (id, practitioner_id, start_at, end_at, mode, status, created_at, "
                               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               [(row[0] + offset, *row[1:]) for row in slots])
        connection.executemany("INSERT INTO booking (slot_id, channel, outcome, has_treating_doctor, created_at, "
                               "status, by_treating_doctor) VALUES (?, ?, ?, ?, ?, 'booked', 0)",
                               [(row[0] + offset, *row[1:]) for row in bookings])
        connection.execute("COMMIT")
    else:  # PostgreSQL's fastest way in: COPY
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
            offset = connection.execute("SELECT coalesce(max(id), 0) FROM slot").fetchone()[0]
            with connection.cursor() as cursor:
                with cursor.copy("COPY slot (id, practitioner_id, start_at, end_at, mode, status, created_at, "
                                 "updated_at) FROM STDIN") as copy:
                    for row in slots:
                        copy.write_row((row[0] + offset, *row[1:]))
                with cursor.copy("COPY booking (slot_id, channel, outcome, has_treating_doctor, created_at, status, "
                                 "by_treating_doctor) FROM STDIN") as copy:
                    for row in bookings:
                        copy.write_row((row[0] + offset, *row[1:], "booked", False))
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


# --- the run ----------------------------------------------------------------------------------------------------


class Databases:
    """A fresh database per measurement: an SQLite file, or a database on one throwaway PostgreSQL cluster."""

    def __init__(self, postgresql: bool):
        self.cluster = None
        self.directory = tempfile.mkdtemp(prefix="snp-bench-history-")
        self.count = 0
        if postgresql:
            from tests.pg_cluster import PgCluster

            self.cluster = PgCluster().start()

    def fresh(self) -> str:
        self.count += 1
        if self.cluster is not None:
            return self.cluster.create_database(f"bench_history_{self.count}")
        return f"sqlite:///{self.directory}/history-{self.count}.sqlite3"

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def run_child(kind: str, rows: int, practitioners: int, url: str, prefilled: bool, limit: float) -> float | None:
    command = [sys.executable, __file__, "--child", kind, "--sizes", str(rows), "--practitioners", str(practitioners),
               "--url", url] + (["--prefilled"] if prefilled else [])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"{kind} {rows}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--sizes", default="1000,6000,14000,50000", help="rows per file, comma-separated")
    parser.add_argument("--practitioners", type=int, default=25, help="GPs of the CPTS, sharing the rows (default 25)")
    parser.add_argument("--prefilled", action="store_true", help="the period already holds as many live slots")
    parser.add_argument("--limit", type=float, default=120, help="seconds before a measurement is stopped")
    parser.add_argument("--child", choices=("service", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.child:
        print(json.dumps({"seconds": measure(args.child, sizes[0], args.practitioners, args.url, args.prefilled)}))
        return
    databases = Databases(args.postgresql)
    name = "PostgreSQL" if args.postgresql else f"SQLite {sqlite3.sqlite_version}"
    print(f"History import, {name}, {args.practitioners} practitioners"
          f"{', period prefilled with as many live slots' if args.prefilled else ''}; "
          f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("| rows | service (POST, test client) | raw driver insert | service / raw |")
    print("|---|---|---|---|")
    try:
        for rows in sizes:
            service = run_child("service", rows, args.practitioners, databases.fresh(), args.prefilled, args.limit)
            raw = run_child("raw", rows, args.practitioners, databases.fresh(), args.prefilled, args.limit)
            shown = [f"{value:.2f} s" if value is not None else f"> {args.limit:.0f} s" for value in (service, raw)]
            ratio = f"{service / raw:.1f}×" if service is not None and raw else "—"
            print(f"| {rows:,} | {shown[0]} | {shown[1]} | {ratio} |", flush=True)
    finally:
        databases.close()


if __name__ == "__main__":
    main()
