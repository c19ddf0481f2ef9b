"""A region-scale data set for the benchmarks (SPEC section 6), generated with bulk loads.

    from region_data import build_region, start_postgres
    cluster, url = start_postgres()          # or url = "sqlite:////tmp/region.sqlite3"
    summary = build_region(url)               # 1×: 2,000 practitioners, 1,000,000 slots, 400,000 bookings
    summary = build_region(url, scale=4)      # 4×: 8,000 practitioners, 4,000,000 slots, 1,600,000 bookings
    ...
    cluster.stop()

Scale N is N regions side by side: N × 20 CPTS (4 per regulation area, so N × 5
areas), each CPTS with 100 practitioners publishing 500 slots over ±120 days.
The territory grows with N (one square of the grid per CPTS), so the density of practitioners
around a commune, and hence what one regulator's search or one CPTS's report
covers, stays that of one region: what grows is the tables and their indexes.
Benchmarks usually take a built region from ``region_cache`` instead of building one.

The schema comes from the models (``db.create_all``); rows go in through the
driver: ``COPY`` on PostgreSQL, one ``executemany`` transaction on SQLite. The
slot overlap guards (exclusion constraint, SQLite triggers) and the secondary
indexes of ``slot`` and ``booking`` are dropped during the load and rebuilt
after it: checking each row against its practitioner's earlier slots makes the
load quadratic, while the generator already places slots on distinct
quarter-hours. Everything is seeded, so two runs give the same region.

    python benchmarks/region_data.py --scale 4 [--postgresql]   # time a build (see docs/performance.md)
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from array import array
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import DDL, text  # noqa: E402

from snp_service import create_app
from snp_service.accounts import passwords  # noqa: E402
from snp_service.core.extensions import db  # noqa: E402
from snp_service.models.slots import SQLITE_OVERLAP_TRIGGERS  # noqa: E402
from tests.pg_cluster import PgCluster  # noqa: E402

PASSWORD = "benchmark-password"
# One region (SPEC section 6, "region scale"); scale N multiplies every count.
REGION = dict(practitioners=2000, slots=1_000_000, bookings=400_000, cpts_count=20)
DAYS_AROUND_NOW = 120
QUARTERS_PER_DAY = 48  # 08:00-20:00 UTC in quarter-hours
POSITIONS = 2 * DAYS_AROUND_NOW * QUARTERS_PER_DAY
CPTS_PER_AREA = 4
COMMUNES_PER_CPTS = 10
# Corner of the generated territory (Vendée), in degrees, and the side of each CPTS's square: one region's
# 20 CPTS fill a 5 × 5 grid 1.6° wide; more CPTS widen the grid, never shrink the squares.
ORIGIN_LAT, ORIGIN_LON, CELL = 46.0, -2.2, 0.32
CHANNEL_WEIGHTS = (("116117", 60), ("sas", 25), ("15", 10), ("other", 5))
TREATING_WEIGHTS = (("yes", 55), ("no", 35), ("unknown", 10))
_FREE, _EXPIRED, _WITHDRAWN, _BOOKED = range(4)
_STATUS = ("free", "expired", "withdrawn", "booked")


def start_postgres(database: str = "snp_bench") -> tuple[PgCluster, str]:
    """A throwaway PostgreSQL cluster and the SQLAlchemy URL of an empty database on it."""
    cluster = PgCluster().start()
    return cluster, cluster.create_database(database)


def region_counts(scale: int = 1, quick: bool = False, **overrides) -> dict:
    """The counts of ``scale`` regions, then ``overrides``.

    ``quick``: a tenth of the practitioners and slots, in a tenth of the CPTS when there are ten or more.
    """
    counts = {key: value * scale for key, value in REGION.items()}
    if quick:
        counts = {key: value if key == "cpts_count" and value < 10 else value // 10 for key, value in counts.items()}
    return counts | overrides


def build_region(database_url: str, *, scale: int = 1, quick: bool = False, seed: int = 1, log=None,
                 **overrides) -> dict:
    """Create the schema at ``database_url`` and fill it with a seeded region; return ids and counts.

    ``scale`` multiplies the counts of one region (``REGION``);
    ``overrides`` (``practitioners``, ``slots``, ``bookings``, ``cpts_count``) replace them. Returned keys: ``now`` (the instant the
    slots are centred on), ``scale``, ``cpts_ids``, ``areas`` (area name → CPTS ids), ``communes``
    (INSEE codes), ``commune_cpts`` (INSEE → CPTS id), ``regulator_emails`` (one per area, keyed by
    area), ``coordinator_emails`` (keyed by CPTS id), ``gp_emails`` (a few, keyed by practitioner id),
    ``password``, ``practitioners``, ``slots``, ``bookings``, ``seconds``.
    """
    started = time.perf_counter()
    counts = region_counts(scale, quick, **overrides)
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        loader = _PostgresLoader() if db.engine.dialect.name == "postgresql" else _SqliteLoader()
        region = _Region(random.Random(seed), datetime.now(timezone.utc).replace(second=0, microsecond=0), **counts)
        loader.load(region, log or (lambda message: None))
        summary = region.summary() | {"scale": scale}
        db.engine.dispose()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


class _Region:
    """The generated region: small tables as tuples, slots and bookings as compact arrays turned into rows on demand.

    Timestamps are handed to the loader's ``stamp`` (its driver's value for an aware datetime);
    the quarter-hour positions are stamped once, not once per slot.
    """

    def __init__(self, rng: random.Random, now: datetime, practitioners: int, slots: int, bookings: int,
                 cpts_count: int):
        self.rng, self.now = rng, now
        self.cpts = self._cpts(cpts_count)
        self.communes = self._communes()
        self.practitioners = self._practitioners(practitioners)
        self.users, self.user_cpts, self.emails = self._users()
        self._place_slots(slots)
        self._choose_bookings(bookings)

    def _cpts(self, count: int) -> list[tuple]:
        return [(i, f"CPTS Région {i:02d}", 30_000 + 7_000 * i, f"Zone {1 + (i - 1) // CPTS_PER_AREA}", "[]", "{}",
                 self.now, f"85{i:07d}") for i in range(1, count + 1)]

    def _communes(self) -> list[tuple]:
        rows, grid = [], int(len(self.cpts) ** 0.5) + 1
        for cpts_id, *_ in self.cpts:
            base_lat = ORIGIN_LAT + CELL * ((cpts_id - 1) // grid)
            base_lon = ORIGIN_LON + CELL * ((cpts_id - 1) % grid)
            for _k in range(COMMUNES_PER_CPTS):
                commune_id = len(rows) + 1
                rows.append((commune_id, cpts_id, f"{85000 + commune_id:05d}", f"Commune {commune_id}",
                             round(base_lat + self.rng.uniform(0, CELL), 5),
                             round(base_lon + self.rng.uniform(0, CELL), 5), f"{85000 + commune_id:05d}"))
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
        password_hash = passwords.hash_password(PASSWORD)
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

    def _place_slots(self, count: int) -> None:
        """Quarter-hour slots on distinct positions per practitioner (never overlapping): arrays, slot id = index + 1."""
        per_practitioner, extra = divmod(count, len(self.practitioners))
        self.first_day = (self.now - timedelta(days=DAYS_AROUND_NOW)).replace(hour=8, minute=0)
        free_after_now = [self._start(p) > self.now for p in range(POSITIONS)]
        self.slot_practitioner, self.slot_position = array("I"), array("H")
        self.slot_status, self.slot_office = bytearray(), bytearray()
        random_ = self.rng.random
        for practitioner in self.practitioners:
            n = per_practitioner + (1 if practitioner[0] <= extra else 0)
            positions = sorted(self.rng.sample(range(POSITIONS), n))
            self.slot_practitioner.extend([practitioner[0]] * n)
            self.slot_position.extend(positions)
            for position in positions:
                withdrawn = random_() < 0.04
                self.slot_status.append(_WITHDRAWN if withdrawn else (_FREE if free_after_now[position] else _EXPIRED))
                self.slot_office.append(random_() < 0.9)

    def _start(self, position: int) -> datetime:
        day, quarter = divmod(position, QUARTERS_PER_DAY)
        return self.first_day + timedelta(days=day, minutes=15 * quarter)

    def _choose_bookings(self, count: int) -> None:
        """Active bookings on a random share of the offered slots (a few cancelled): slot indexes, in booking order."""
        offered = array("I", (i for i, status in enumerate(self.slot_status) if status != _WITHDRAWN))
        self.booked_slots = array("I", self.rng.sample(offered, min(count, len(offered))))
        self.cancelled = bytearray(self.rng.random() < 0.04 for _ in self.booked_slots)
        for index, cancelled in zip(self.booked_slots, self.cancelled):
            if not cancelled:
                self.slot_status[index] = _BOOKED

    def slot_rows(self, stamp) -> Iterator[tuple]:
        starts = [stamp(self._start(p)) for p in range(POSITIONS)]
        ends = [stamp(self._start(p) + timedelta(minutes=15)) for p in range(POSITIONS)]
        created = stamp(self.now)
        for index, (practitioner_id, position, status, office) in enumerate(
                zip(self.slot_practitioner, self.slot_position, self.slot_status, self.slot_office)):
            yield (index + 1, practitioner_id, starts[position], ends[position],
                   "office" if office else "teleconsultation", _STATUS[status], created, created)

    def booking_rows(self, stamp) -> Iterator[tuple]:
        rng, now = self.rng, self.now
        channels, channel_weights = zip(*CHANNEL_WEIGHTS)
        answers, answer_weights = zip(*TREATING_WEIGHTS)
        for n, (index, cancelled) in enumerate(zip(self.booked_slots, self.cancelled)):
            start = self._start(self.slot_position[index])
            outcome = None
            if not cancelled and start <= now:
                outcome = "no_show" if rng.random() < 0.08 else "honored"
            has_treating = rng.choices(answers, answer_weights)[0]
            created = start - timedelta(minutes=rng.randint(10, 60 * 72))
            yield (n + 1, index + 1, None, rng.choice(self.regulator_ids), None,
                   rng.choices(channels, channel_weights)[0], None,
                   "cancelled" if cancelled else "booked", outcome, has_treating,
                   has_treating == "yes" and rng.random() < 0.2, stamp(created),
                   stamp(created + timedelta(minutes=5)) if cancelled else None,
                   "patient" if cancelled else None, None,
                   stamp(start + timedelta(minutes=20)) if outcome else None,
                   # Made for the practitioner's (only) CPTS, as a booking by the area's regulator would be.
                   self.memberships[self.slot_practitioner[index] - 1][1])

    def summary(self) -> dict:
        areas: dict[str, list[int]] = {}
        for cpts_id, _name, _pop, area, *_ in self.cpts:
            areas.setdefault(area, []).append(cpts_id)
        return {
            "now": self.now, "cpts_ids": [c[0] for c in self.cpts], "areas": areas,
            "communes": [c[2] for c in self.communes], "commune_cpts": {c[2]: c[1] for c in self.communes},
            "regulator_emails": self.emails["regulators"], "coordinator_emails": self.emails["coordinators"],
            "gp_emails": self.emails["gps"], "password": PASSWORD,
            "practitioners": len(self.practitioners), "slots": len(self.slot_status),
            "bookings": len(self.booked_slots),
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
                "outcome_at, cpts_id"),
}


def _table_rows(region: _Region, stamp) -> Iterator[tuple[str, Iterable[tuple]]]:
    def stamped(rows):
        return (tuple(stamp(v) if isinstance(v, datetime) else v for v in row) for row in rows)

    yield from [("cpts", stamped(region.cpts)), ("commune", region.communes),
                ("practitioner", stamped(region.practitioners)), ("practitioner_cpts", region.memberships),
                ("user_account", stamped(region.users)), ("user_cpts", region.user_cpts)]
    yield "slot", region.slot_rows(stamp)
    yield "booking", region.booking_rows(stamp)


class _SqliteLoader:
    def load(self, region: _Region, log) -> None:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # a throwaway file: a crash mid-load means a rebuild
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index builds
            for trigger in ("tr_slot_no_overlap_insert", "tr_slot_no_overlap_update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            indexes = cursor.execute(_SQLITE_BULK_INDEXES).fetchall()
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {name}")
            started = time.perf_counter()
            cursor.execute("BEGIN")
            for table, rows in _table_rows(region, _sqlite_stamp):
                columns = _COLUMNS[table]
                marks = ", ".join("?" * len(columns.split(",")))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            cursor.execute("COMMIT")
            log(f"rows generated and inserted in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            for _name, sql in indexes:
                cursor.execute(sql)
            for trigger in SQLITE_OVERLAP_TRIGGERS:
                cursor.execute(trigger)
            cursor.execute("ANALYZE")
            log(f"indexes and ANALYZE in {time.perf_counter() - started:.0f} s")
        finally:
            raw.close()


# Secondary indexes of the big tables are built once after the load, not row by row.
_SQLITE_BULK_INDEXES = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        "AND tbl_name IN ('slot', 'booking')")
_POSTGRES_BULK_INDEXES = ("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('slot', 'booking') "
                          "AND indexname NOT IN (SELECT conname FROM pg_constraint)")


_POSTGRES_FOREIGN_KEYS = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                          "WHERE contype = 'f' AND conrelid::regclass::text IN ('slot', 'booking')")


def _sqlite_stamp(value: datetime) -> str:
    # The text format SQLAlchemy's SQLite DateTime reads and compares (UTC, naive, microseconds).
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class _PostgresLoader:
    def load(self, region: _Region, log) -> None:
        with db.engine.begin() as conn:
            conn.execute(text("SET maintenance_work_mem = '512MB'"))
            # Emptied in the loading transaction, the tables take COPY ... FREEZE: rows written frozen and pages
            # marked all-visible, as autovacuum leaves a live database, so that index-only scans never read the
            # table. (VACUUM after an asynchronous commit left most pages not all-visible.)
            conn.execute(text(f"TRUNCATE {', '.join(_COLUMNS)} CASCADE"))
            overlap = _exclusion_constraint(conn)
            conn.execute(text("ALTER TABLE slot DROP CONSTRAINT ex_slot_no_overlap"))
            indexes = conn.execute(text(_POSTGRES_BULK_INDEXES)).all()
            for name, _definition in indexes:
                conn.execute(text(f"DROP INDEX {name}"))
            # Foreign keys too: checked row by row during the COPY, as one join when added back.
            foreign_keys = conn.execute(text(_POSTGRES_FOREIGN_KEYS)).all()
            for table, name, _definition in foreign_keys:
                conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
            started = time.perf_counter()
            copy_connection = conn.connection.driver_connection
            with copy_connection.cursor() as cursor:
                for table, rows in _table_rows(region, lambda value: value):
                    with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN WITH (FREEZE)") as copy:
                        for row in rows:
                            copy.write_row(row)
            log(f"rows generated and copied in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            for _name, definition in indexes:
                conn.execute(DDL(definition))
            for table, name, definition in foreign_keys:
                conn.execute(DDL(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
            log(f"indexes and foreign keys in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            # A GiST build inserts row by row (no sorted build for this opclass pair): most of the build time.
            conn.execute(DDL(f"ALTER TABLE slot ADD CONSTRAINT ex_slot_no_overlap {overlap}"))
            for table in ("cpts", "commune", "practitioner", "user_account", "slot", "booking"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            log(f"exclusion constraint in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            not_visible = conn.execute(text("SELECT string_agg(relname, ', ') FROM pg_class WHERE relname IN "
                                            "('slot', 'booking') AND relallvisible < relpages")).scalar()
        if not_visible:
            raise RuntimeError(f"pages of {not_visible} are not all-visible after the load")
        log(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")


# What the generated rows depend on, besides the counts and the seed: the cache's key hashes their source
# and these settings' values.
GENERATOR = {"postgresql": (_Region, _table_rows, _PostgresLoader),
             "sqlite": (_Region, _table_rows, _SqliteLoader, _sqlite_stamp)}
GENERATOR_SETTINGS = ("PASSWORD", "DAYS_AROUND_NOW", "QUARTERS_PER_DAY", "CPTS_PER_AREA", "COMMUNES_PER_CPTS",
                      "ORIGIN_LAT", "ORIGIN_LON", "CELL", "CHANNEL_WEIGHTS", "TREATING_WEIGHTS")


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
    parser.add_argument("--scale", type=int, default=1, help="regions side by side (4: 8,000 practitioners, "
                                                              "4,000,000 slots, 80 CPTS)")
    parser.add_argument("--quick", action="store_true", help="a tenth of a region per scale unit")
    parser.add_argument("--postgresql", action="store_true", help="load a throwaway PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with throwaway_database("snp-region", args.postgresql) as url:
        summary = build_region(url, scale=args.scale, quick=args.quick, log=print)
        print(f"{summary['practitioners']} practitioners, {summary['slots']} slots, {summary['bookings']} bookings, "
              f"{len(summary['cpts_ids'])} CPTS in {len(summary['areas'])} areas, built in {summary['seconds']} s")


if __name__ == "__main__":
    main()
