"""A region-scale data set for the benchmarks (SPEC section 6), generated with bulk inserts.

    from region_data import build_region, start_postgres
    cluster, url = start_postgres()          # or url = "sqlite:////tmp/region.sqlite3"
    summary = build_region(url)               # 2,000 practitioners, 1,000,000 slots, 400,000 bookings
    ...
    cluster.stop()

The schema comes from the models (``db.create_all``); rows go in through the
driver: ``COPY`` on PostgreSQL, one ``executemany`` transaction on SQLite. The
slot overlap guards (exclusion constraint, SQLite triggers) and the secondary
indexes of ``slot`` and ``booking`` are dropped during the load and rebuilt
after it: checking each row against its practitioner's earlier slots makes the
load quadratic, while the generator already places slots on distinct
quarter-hours. Everything is seeded, so two runs give the same region.

Run it alone to time the generation: ``python benchmarks/region_data.py --quick``.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import DDL, text  # noqa: E402

from snp_service import accounts, create_app  # noqa: E402
from snp_service.extensions import db  # noqa: E402
from snp_service.models.slots import SQLITE_OVERLAP_TRIGGERS  # noqa: E402
from tests.pg_cluster import PgCluster  # noqa: E402

PASSWORD = "benchmark-password"
DAYS_AROUND_NOW = 120
QUARTERS_PER_DAY = 48  # 08:00-20:00 UTC in quarter-hours
CPTS_PER_AREA = 4
COMMUNES_PER_CPTS = 10
# Centre of the generated territory (Vendée) and its extent in degrees.
ORIGIN_LAT, ORIGIN_LON, EXTENT = 46.0, -2.2, 1.6
CHANNEL_WEIGHTS = (("116117", 60), ("sas", 25), ("15", 10), ("other", 5))
TREATING_WEIGHTS = (("yes", 55), ("no", 35), ("unknown", 10))


def start_postgres(database: str = "snp_bench") -> tuple[PgCluster, str]:
    """A throwaway PostgreSQL cluster and the SQLAlchemy URL of an empty database on it."""
    cluster = PgCluster().start()
    return cluster, cluster.create_database(database)


def build_region(database_url: str, *, practitioners: int = 2000, slots: int = 1_000_000, bookings: int = 400_000,
                 cpts_count: int = 20, seed: int = 1) -> dict:
    """Create the schema at ``database_url`` and fill it with a seeded region; return ids and counts.

    Returned keys: ``now`` (the instant the slots are centred on), ``cpts_ids``, ``areas``
    (area name → CPTS ids), ``communes`` (INSEE codes), ``commune_cpts`` (INSEE → CPTS id),
    ``regulator_emails`` (one per area, keyed by area), ``coordinator_emails`` (keyed by CPTS id),
    ``gp_emails`` (a few, keyed by practitioner id), ``password``, ``practitioners``, ``slots``, ``bookings``, ``seconds``.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        loader = _PostgresLoader() if db.engine.dialect.name == "postgresql" else _SqliteLoader()
        region = _Region(rng, now, practitioners, slots, bookings, cpts_count)
        loader.load(region)
        summary = region.summary()
        db.engine.dispose()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


class _Region:
    """The generated rows, as tuples in the column order of ``_COLUMNS``."""

    def __init__(self, rng: random.Random, now: datetime, practitioners: int, slots: int, bookings: int,
                 cpts_count: int):
        self.rng, self.now = rng, now
        self.cpts = self._cpts(cpts_count)
        self.communes = self._communes()
        self.practitioners = self._practitioners(practitioners)
        self.users, self.user_cpts, self.emails = self._users()
        self.slots = self._slots(slots)
        self.patients: list[tuple] = []
        self.bookings = self._bookings(bookings)

    def _cpts(self, count: int) -> list[tuple]:
        return [(i, f"CPTS Région {i:02d}", 30_000 + 7_000 * i, f"Zone {1 + (i - 1) // CPTS_PER_AREA}", "[]", "{}",
                 self.now, f"85{i:07d}") for i in range(1, count + 1)]

    def _communes(self) -> list[tuple]:
        rows, grid = [], int(len(self.cpts) ** 0.5) + 1
        for cpts_id, *_ in self.cpts:
            base_lat = ORIGIN_LAT + EXTENT * ((cpts_id - 1) // grid) / grid
            base_lon = ORIGIN_LON + EXTENT * ((cpts_id - 1) % grid) / grid
            for k in range(COMMUNES_PER_CPTS):
                commune_id = len(rows) + 1
                rows.append((commune_id, cpts_id, f"{85000 + commune_id:05d}", f"Commune {commune_id}",
                             round(base_lat + self.rng.uniform(0, EXTENT / grid), 5),
                             round(base_lon + self.rng.uniform(0, EXTENT / grid), 5), f"{85000 + commune_id:05d}"))
        return rows

    def _practitioners(self, count: int) -> list[tuple]:
        rows = []
        for i in range(1, count + 1):
            commune = self.communes[(i - 1) % len(self.communes)]
            # Every practitioner of the region shows their slots to the SAS platform (its benchmark asks for them).
            rows.append((i, f"{10_000_000_000 + i:011d}", f"Prénom{i}", f"Nom{i:04d}", "gp", "+33251000000",
                         f"{1 + i % 90} rue de la Mairie", commune[2], commune[4] + self.rng.uniform(-0.01, 0.01),
                         commune[5] + self.rng.uniform(-0.01, 0.01), self.now, commune[6], f"{i:014d}", True))
        self.memberships = [(p[0], self.communes[(p[0] - 1) % len(self.communes)][1]) for p in rows]
        return rows

    def _users(self) -> tuple[list[tuple], list[tuple], dict]:
        password_hash = accounts.hash_password(PASSWORD)
        users, links = [], []
        emails = {"regulators": {}, "coordinators": {}, "gps": {}}

        def add(email, role, practitioner_id, cpts_id):
            users.append((len(users) + 1, email, password_hash, role, practitioner_id, True, self.now))
            links.append((len(users), cpts_id))

        for cpts_id, _name, _pop, area, *_ in self.cpts:
            if area not in emails["regulators"]:
                emails["regulators"][area] = f"regulation{len(emails['regulators']) + 1}@bench.example"
                add(emails["regulators"][area], "regulator", None, cpts_id)
            emails["coordinators"][cpts_id] = f"coordination{cpts_id}@bench.example"
            add(emails["coordinators"][cpts_id], "coordinator", None, cpts_id)
        for practitioner_id, cpts_id in self.memberships[:10]:
            emails["gps"][practitioner_id] = f"gp{practitioner_id}@bench.example"
            add(emails["gps"][practitioner_id], "gp", practitioner_id, cpts_id)
        self.regulator_ids = [u[0] for u in users if u[3] == "regulator"]
        return users, links, emails

    def _slots(self, count: int) -> list[tuple]:
        """Quarter-hour slots on distinct positions per practitioner: never overlapping."""
        per_practitioner, extra = divmod(count, len(self.practitioners))
        positions = range(2 * DAYS_AROUND_NOW * QUARTERS_PER_DAY)
        first_day = (self.now - timedelta(days=DAYS_AROUND_NOW)).replace(hour=8, minute=0)
        rows = []
        for practitioner in self.practitioners:
            n = per_practitioner + (1 if practitioner[0] <= extra else 0)
            for position in sorted(self.rng.sample(positions, n)):
                day, quarter = divmod(position, QUARTERS_PER_DAY)
                start = first_day + timedelta(days=day, minutes=15 * quarter)
                withdrawn = self.rng.random() < 0.04
                status = "withdrawn" if withdrawn else ("free" if start > self.now else "expired")
                rows.append([len(rows) + 1, practitioner[0], start, start + timedelta(minutes=15),
                             "office" if self.rng.random() < 0.9 else "teleconsultation", status, self.now, self.now])
        return rows

    def _bookings(self, count: int) -> list[tuple]:
        """Active bookings on a random share of the offered slots, plus a few cancelled ones."""
        offered = [row for row in self.slots if row[5] != "withdrawn"]
        chosen = self.rng.sample(offered, min(count, len(offered)))
        channels, channel_weights = zip(*CHANNEL_WEIGHTS)
        answers, answer_weights = zip(*TREATING_WEIGHTS)
        rows = []
        for slot in chosen:
            start = slot[2]
            cancelled = self.rng.random() < 0.04
            outcome = None
            if not cancelled and start <= self.now:
                outcome = "no_show" if self.rng.random() < 0.08 else "honored"
            if not cancelled:
                slot[5] = "booked"
            has_treating = self.rng.choices(answers, answer_weights)[0]
            created = start - timedelta(minutes=self.rng.randint(10, 60 * 72))
            rows.append((len(rows) + 1, slot[0], None, self.rng.choice(self.regulator_ids), None,
                         self.rng.choices(channels, channel_weights)[0], None,
                         "cancelled" if cancelled else "booked", outcome, has_treating,
                         has_treating == "yes" and self.rng.random() < 0.2, created,
                         created + timedelta(minutes=5) if cancelled else None,
                         "patient" if cancelled else None, None,
                         start + timedelta(minutes=20) if outcome else None))
        self.slots = [tuple(row) for row in self.slots]
        return rows

    def summary(self) -> dict:
        areas: dict[str, list[int]] = {}
        for cpts_id, _name, _pop, area, *_ in self.cpts:
            areas.setdefault(area, []).append(cpts_id)
        return {
            "now": self.now, "cpts_ids": [c[0] for c in self.cpts], "areas": areas,
            "communes": [c[2] for c in self.communes], "commune_cpts": {c[2]: c[1] for c in self.communes},
            "regulator_emails": self.emails["regulators"], "coordinator_emails": self.emails["coordinators"],
            "gp_emails": self.emails["gps"], "password": PASSWORD,
            "practitioners": len(self.practitioners), "slots": len(self.slots), "bookings": len(self.bookings),
        }


_COLUMNS = {
    "cpts": "id, name, population, regulation_area, aci_missions, indicator_targets, created_at, finess",
    "commune": "id, cpts_id, insee, name, lat, lon, postal_code",
    "practitioner": ("id, rpps, first_name, last_name, profession, phone, address, commune_insee, lat, lon, created_at, "
                     "postal_code, practice_siret, sas_participation"),
    "practitioner_cpts": "practitioner_id, cpts_id",
    "user_account": "id, email, password_hash, role, practitioner_id, active, created_at",
    "user_cpts": "user_id, cpts_id",
    "slot": "id, practitioner_id, start_at, end_at, mode, status, created_at, updated_at",
    "booking": ("id, slot_id, patient_id, booked_by_id, idempotency_key, channel, reason, status, outcome, "
                "has_treating_doctor, by_treating_doctor, created_at, cancelled_at, cancelled_by, cancel_reason, "
                "outcome_at"),
}


def _table_rows(region: _Region) -> list[tuple[str, list[tuple]]]:
    return [("cpts", region.cpts), ("commune", region.communes), ("practitioner", region.practitioners),
            ("practitioner_cpts", region.memberships), ("user_account", region.users),
            ("user_cpts", region.user_cpts), ("slot", region.slots), ("booking", region.bookings)]


class _SqliteLoader:
    def load(self, region: _Region) -> None:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for trigger in ("tr_slot_no_overlap_insert", "tr_slot_no_overlap_update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            indexes = cursor.execute(_SQLITE_BULK_INDEXES).fetchall()
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {name}")
            cursor.execute("BEGIN")
            for table, rows in _table_rows(region):
                columns = _COLUMNS[table]
                marks = ", ".join("?" * len(columns.split(",")))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                                   (tuple(_sqlite_value(v) for v in row) for row in rows))
            cursor.execute("COMMIT")
            for _name, sql in indexes:
                cursor.execute(sql)
            for trigger in SQLITE_OVERLAP_TRIGGERS:
                cursor.execute(trigger)
            cursor.execute("ANALYZE")
        finally:
            raw.close()


# Secondary indexes of the big tables are built once after the load, not row by row.
_SQLITE_BULK_INDEXES = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        "AND tbl_name IN ('slot', 'booking')")
_POSTGRES_BULK_INDEXES = ("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('slot', 'booking') "
                          "AND indexname NOT IN (SELECT conname FROM pg_constraint)")


def _sqlite_value(value):
    # The text format SQLAlchemy's SQLite DateTime reads and compares (UTC, naive, microseconds).
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


class _PostgresLoader:
    def load(self, region: _Region) -> None:
        with db.engine.begin() as conn:
            overlap = _exclusion_constraint(conn)
            conn.execute(text("ALTER TABLE slot DROP CONSTRAINT ex_slot_no_overlap"))
            indexes = conn.execute(text(_POSTGRES_BULK_INDEXES)).all()
            for name, _definition in indexes:
                conn.execute(text(f"DROP INDEX {name}"))
            copy_connection = conn.connection.driver_connection
            with copy_connection.cursor() as cursor:
                for table, rows in _table_rows(region):
                    with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            for _name, definition in indexes:
                conn.execute(DDL(definition))
            conn.execute(DDL(f"ALTER TABLE slot ADD CONSTRAINT ex_slot_no_overlap {overlap}"))
            for table in ("cpts", "commune", "practitioner", "user_account", "slot", "booking"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # The throwaway cluster commits asynchronously: until a checkpoint writes the load's commit
            # out, VACUUM cannot mark its pages all-visible, and every index-only scan would still read
            # the table (a live database reaches that state through autovacuum). CHECKPOINT needs the superuser
            # the throwaway cluster gives the benchmark.
            conn.execute(text("CHECKPOINT"))
            conn.execute(text("VACUUM ANALYZE"))


@contextmanager
def throwaway_database(name: str, postgresql: bool) -> Iterator[str]:
    """The URL of an empty database that disappears afterwards: a PostgreSQL cluster or a SQLite file."""
    if postgresql:
        cluster, url = start_postgres(name)
        try:
            yield url
        finally:
            cluster.stop()
        return
    path = Path(f"/tmp/{name}.sqlite3")
    path.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


def _exclusion_constraint(conn) -> str:
    return conn.execute(text(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ex_slot_no_overlap'")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 practitioners, 100,000 slots")
    parser.add_argument("--postgresql", action="store_true", help="load a throwaway PostgreSQL instead of SQLite")
    args = parser.parse_args()
    scale = dict(practitioners=200, slots=100_000, bookings=40_000) if args.quick else {}
    if args.postgresql:
        cluster, url = start_postgres()
        try:
            print(_report(build_region(url, **scale)))
        finally:
            cluster.stop()
    else:
        path = Path("/tmp/snp-region.sqlite3")
        path.unlink(missing_ok=True)
        print(_report(build_region(f"sqlite:///{path}", **scale)))


def _report(summary: dict) -> str:
    return (f"{summary['practitioners']} practitioners, {summary['slots']} slots, {summary['bookings']} bookings "
            f"in {summary['seconds']} s")


if __name__ == "__main__":
    main()
