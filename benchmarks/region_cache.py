"""Built regions kept between benchmark runs, so that a 1×/4× comparison does not rebuild each time.

    with regions([1, 4], postgresql=True) as built:      # {scale: Built(url, summary)}
        url, summary = built[4]
        ...

Each region is built once (``region_data.build_region``) and kept under
``benchmarks/output/`` (git-ignored), keyed by its scale and a hash of the schema
DDL, the generator's source (``region_data.GENERATOR``, the dialect's loader
included) and the counts: a change to any of them builds a new one. A run gets a
fresh working copy, so what a benchmark writes (bookings, job results) never
reaches the next run:

- PostgreSQL: one persistent cluster in ``benchmarks/output/pg/``, started for the
  run and stopped after it; the built region is a database ``region_x<N>_<key>``,
  the working copy ``CREATE DATABASE bench_region_x<N> TEMPLATE ... STRATEGY FILE_COPY``
  (a file copy: the load's all-visible pages and statistics come with it);
- SQLite: ``region_x<N>-<key>.sqlite3``, copied to ``bench-region_x<N>.sqlite3``.

Slots are centred on the build's instant, so a region older than ``MAX_AGE`` is
built again (the search and booking windows look at the next hours). The
benchmark's cluster settings are the test suite's (fsync off, 200 connections).
"""
from __future__ import annotations

import fcntl
import hashlib
import inspect
import os
import pickle
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import region_data
from region_data import ROOT, build_region, region_counts

from snp_service.core.extensions import db
from tests.pg_cluster import PgCluster, PostgresUnavailable

OUTPUT = ROOT / "benchmarks" / "output"
MAX_AGE = timedelta(hours=20)


@dataclass(frozen=True)
class Built:
    url: str
    summary: dict
    postmaster_pid: int | None = None  # PostgreSQL: the server process, whose CPU ``booking_load.CpuMeter`` reads

    @property
    def psycopg_url(self) -> str:
        return self.url.replace("postgresql+psycopg", "postgresql")


def region_key(dialect: str, counts: dict, seed: int = 1) -> str:
    """What the built region depends on: the schema as the dialect creates it, the generator, the counts."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    import snp_service.models  # noqa: F401  (the tables' metadata)

    compiled_for = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    parts = [inspect.getsource(code) for code in region_data.GENERATOR[dialect]]
    parts += [repr([getattr(region_data, name) for name in region_data.GENERATOR_SETTINGS])]
    parts += [repr(sorted(counts.items())), str(seed)]
    for table in db.metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=compiled_for)))
        parts += sorted(str(CreateIndex(index).compile(dialect=compiled_for)) for index in table.indexes)
    parts += region_data.SQLITE_OVERLAP_TRIGGERS
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:10]


class PersistentCluster(PgCluster):
    """The benchmarks' PostgreSQL cluster in a directory that outlives the run (stopped, never deleted)."""

    def __init__(self, directory: Path):
        super().__init__()
        os.rmdir(self.dir)  # the throwaway directory PgCluster made
        self.dir, self.data = str(directory), str(directory / "data")

    def start(self) -> PersistentCluster:
        Path(self.dir).mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        if not Path(self.data, "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            self._run(self.initdb, "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        if Path(self.data, "postmaster.pid").exists():  # left running by an interrupted run: stop it first
            try:
                self._run(self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop")
            except PostgresUnavailable:
                Path(self.data, "postmaster.pid").unlink(missing_ok=True)  # stale: the server is gone
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(self.pg_ctl, "-D", self.data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w", "start")
        self._wait()
        return self

    def execute(self, statement: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def databases(self) -> set[str]:
        return {row[0] for row in self.execute("SELECT datname FROM pg_database")}

    def postmaster_pid(self) -> int:
        return int(Path(self.data, "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop")


@contextmanager
def regions(scales: list[int], postgresql: bool, *, quick: bool = False, rebuild: bool = False,
            log=print) -> Iterator[dict[int, Built]]:
    """A fresh working copy of the built region of each scale (built first when missing or stale).

    One run at a time: a second benchmark waits for the first (the regions, the cluster and
    the two cores are shared, and two region-scale runs would measure each other).
    """
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with _one_run_at_a_time(log):
        with _regions(scales, postgresql, quick, rebuild, log) as built:
            yield built


@contextmanager
def _one_run_at_a_time(log) -> Iterator[None]:
    with (OUTPUT / "regions.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another benchmark is using the regions: waiting for it to finish ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def _regions(scales: list[int], postgresql: bool, quick: bool, rebuild: bool, log) -> Iterator[dict[int, Built]]:
    names = {scale: f"region_x{scale}{'q' if quick else ''}" for scale in scales}
    counts = {scale: region_counts(scale, quick) for scale in scales}
    if not postgresql:
        built = {scale: _sqlite_copy(names[scale], counts[scale], rebuild, log) for scale in scales}
        try:
            yield built
        finally:
            for copy in built.values():
                _remove_sqlite(Path(copy.url.removeprefix("sqlite:///")))
        return
    cluster = PersistentCluster(OUTPUT / "pg").start()
    try:
        built = {scale: _postgres_copy(cluster, names[scale], counts[scale], rebuild, log) for scale in scales}
        try:
            yield built
        finally:
            for name in names.values():
                cluster.execute(f"DROP DATABASE IF EXISTS bench_{name} WITH (FORCE)")
    finally:
        cluster.stop()


def _summary_path(name: str, dialect: str, key: str) -> Path:
    return OUTPUT / f"{name}-{dialect}-{key}.pickle"


def _cached_summary(name: str, dialect: str, key: str, rebuild: bool) -> dict | None:
    path = _summary_path(name, dialect, key)
    if rebuild or not path.exists():
        return None
    summary = pickle.loads(path.read_bytes())
    if datetime.now(timezone.utc) - summary["now"] > MAX_AGE:
        return None
    return summary


def _keep_summary(name: str, dialect: str, key: str, summary: dict) -> None:
    for old in OUTPUT.glob(f"{name}-{dialect}-*.pickle"):
        old.unlink()
    _summary_path(name, dialect, key).write_bytes(pickle.dumps(summary))


def _postgres_copy(cluster: PersistentCluster, name: str, counts: dict, rebuild: bool, log) -> Built:
    key = region_key("postgresql", counts)
    template = f"{name}_{key}"
    summary = _cached_summary(name, "postgresql", key, rebuild)
    if summary is None or template not in cluster.databases():
        for old in cluster.databases():
            if old.startswith(f"{name}_"):  # another schema or generator: its disk space goes back
                cluster.execute(f'DROP DATABASE "{old}" WITH (FORCE)')
        log(f"building {name} {counts} on PostgreSQL (kept in {OUTPUT / 'pg'}) ...")
        building = f"{template}_building"
        summary = build_region(cluster.create_database(building), log=log, **_build_arguments(name, counts))
        cluster.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        _keep_summary(name, "postgresql", key, summary)
        log(f"  built in {summary['seconds']} s")
    started = time.perf_counter()
    working = f"bench_{name}"
    cluster.execute(f'DROP DATABASE IF EXISTS "{working}" WITH (FORCE)')
    cluster.execute(f'CREATE DATABASE "{working}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    log(f"{name} (built {summary['now']:%Y-%m-%d %H:%M} UTC in {summary['seconds']} s): "
        f"working copy in {time.perf_counter() - started:.0f} s")
    return Built(cluster.url(working), summary, cluster.postmaster_pid())


def _sqlite_copy(name: str, counts: dict, rebuild: bool, log) -> Built:
    key = region_key("sqlite", counts)
    template = OUTPUT / f"{name}-{key}.sqlite3"
    summary = _cached_summary(name, "sqlite", key, rebuild)
    if summary is None or not template.exists():
        for old in OUTPUT.glob(f"{name}-*.sqlite3"):
            _remove_sqlite(old)
        log(f"building {name} {counts} on SQLite (kept in {template}) ...")
        building = template.with_suffix(".building")
        _remove_sqlite(building)
        summary = build_region(f"sqlite:///{building}", log=log, **_build_arguments(name, counts))
        if Path(f"{building}-wal").exists():
            raise RuntimeError(f"{building}-wal left after the build: the copy would miss its last pages")
        building.rename(template)
        _keep_summary(name, "sqlite", key, summary)
        log(f"  built in {summary['seconds']} s")
    started = time.perf_counter()
    working = OUTPUT / f"bench-{name}.sqlite3"
    _remove_sqlite(working)
    shutil.copyfile(template, working)
    log(f"{name} (built {summary['now']:%Y-%m-%d %H:%M} UTC in {summary['seconds']} s): "
        f"working copy in {time.perf_counter() - started:.0f} s")
    return Built(f"sqlite:///{working}", summary)


def _build_arguments(name: str, counts: dict) -> dict:
    return dict(counts, scale=int(name.partition("_x")[2].rstrip("q")))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
