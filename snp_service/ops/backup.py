"""Backups of the whole database and their restore (``flask --app wsgi snp backup`` / ``restore``).

A backup holds patient data: it is written with mode 600 (under a temporary name, renamed when complete,
so a half-written file is never taken for a backup), and backups older than ``BACKUP_KEEP_DAYS`` are removed
after each new one.

- SQLite: the library's online backup API (``sqlite3.Connection.backup``), consistent while the service
  writes (one pass under a read lock; WAL readers and writers go on).
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot, consistent while the service writes). The URL's
  credentials go to the child process through its environment (host, port, user, database) and a
  temporary password file of mode 600 (``PGPASSFILE``), never on its command line where ``ps`` shows them.

A restore goes into an empty database only (a database holding tables is refused: restoring over live data
would mix two histories); the caller then runs the migrations, so a backup taken by an older release comes
up to the current schema.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

PREFIX = "snp-"
SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z)(?:-\d+)?(\{SQLITE_SUFFIX}|\{POSTGRES_SUFFIX})$")


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why (never a password)."""


def backup(database_uri: str, directory: str | os.PathLike, keep_days: int, now: datetime | None = None) -> Path:
    """Write a backup of the database into ``directory`` (made mode 700 if missing); remove the old ones.

    Returns the new file's path.
    """
    now = now or datetime.now(timezone.utc)
    url = make_url(database_uri)
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    suffix = SQLITE_SUFFIX if _is_sqlite(url) else POSTGRES_SUFFIX
    target = _free_name(folder, now, suffix)
    partial = target.with_name(f".{target.name}.partial")
    _create_private(partial)
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        os.chmod(partial, 0o600)  # whatever the tool did to it
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    prune(folder, keep_days, now, keep=target)
    return target


def prune(directory: str | os.PathLike, keep_days: int, now: datetime, keep: Path | None = None) -> list[Path]:
    """Remove this service's backups (by the time in their name) taken more than ``keep_days`` days before ``now``."""
    limit = now - timedelta(days=keep_days)
    removed = []
    for path in Path(directory).iterdir():
        match = _NAME.match(path.name)
        if not match or path == keep or not path.is_file():
            continue
        taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=timezone.utc)
        if taken < limit:
            path.unlink()
            removed.append(path)
    return sorted(removed)


def restore(database_uri: str, file: str | os.PathLike) -> None:
    """Load the backup ``file`` into the (empty) database of ``database_uri``. The migrations are the caller's."""
    url = make_url(database_uri)
    source = Path(file)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    tables = existing_tables(database_uri)
    if tables:
        raise BackupError(f"The target database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): "
                          "restore into a new, empty database.")
    if _is_sqlite(url):
        if not source.name.endswith(SQLITE_SUFFIX):
            raise BackupError(f"{source.name} is not a SQLite backup ({SQLITE_SUFFIX}).")
        _sqlite_restore(source, _sqlite_path(url))
    else:
        if not source.name.endswith(POSTGRES_SUFFIX):
            raise BackupError(f"{source.name} is not a PostgreSQL backup ({POSTGRES_SUFFIX}).")
        _pg_restore(url, source)


def existing_tables(database_uri: str) -> list[str]:
    """The tables of the database (an absent SQLite file has none, and is not created here)."""
    url = make_url(database_uri)
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            schemas = [None] if _is_sqlite(url) else [s for s in inspector.get_schema_names()
                                                       if s not in ("information_schema",) and not s.startswith("pg_")]
            return [name for schema in schemas for name in inspector.get_table_names(schema=schema)]
    finally:
        engine.dispose()


# --- files ---------------------------------------------------------------------------------------------------


def _free_name(folder: Path, now: datetime, suffix: str) -> Path:
    stamp = now.astimezone(timezone.utc).strftime(_STAMP)
    candidate = folder / f"{PREFIX}{stamp}{suffix}"
    counter = 1
    while candidate.exists():
        candidate = folder / f"{PREFIX}{stamp}-{counter}{suffix}"
        counter += 1
    return candidate


def _create_private(path: Path) -> None:
    """Create ``path`` empty, mode 600, before anything is written into it."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


# --- SQLite --------------------------------------------------------------------------------------------------


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return url.database


def _sqlite_backup(source_path: str, target: Path) -> None:
    if not os.path.exists(source_path):
        raise BackupError(f"No SQLite database at {source_path}.")
    # Read-write like the service's own connections (a read-only one cannot open a WAL database whose -shm
    # is missing); the backup API only reads it.
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        # pages=-1: the whole database in one step, under one read lock: a consistent copy even while
        # the service commits (in steps, a write by another connection would restart the copy).
        source.backup(destination, pages=-1)
        # A self-contained file: no -wal beside it to carry along.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()
        source.close()


def _sqlite_restore(source: Path, target_path: str) -> None:
    backup_db = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
    try:
        if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{source.name} is damaged (SQLite quick_check failed).")
        os.makedirs(os.path.dirname(os.path.abspath(target_path)), exist_ok=True)
        target = sqlite3.connect(target_path)
        try:
            backup_db.backup(target, pages=-1)
        finally:
            target.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source.name} is not a readable SQLite backup: {error}") from None
    finally:
        backup_db.close()


# --- PostgreSQL ----------------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} is not installed (Debian: the postgresql-client package).")
    return path


@contextmanager
def _pg_environment(url: URL):
    """The child's environment: where to connect and who as; the password in a private, temporary file."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update({"PGHOST": url.host or "", "PGPORT": str(url.port or 5432), "PGUSER": url.username or "",
                "PGDATABASE": url.database or "", "PGAPPNAME": "snp-backup"})
    for key, value in url.query.items():  # ?sslmode=require&sslrootcert=...: libpq's own names
        if key.startswith("ssl") and isinstance(value, str):
            env[f"PG{key.upper()}"] = value
    if not url.host:
        env.pop("PGHOST")
    with tempfile.TemporaryDirectory(prefix="snp-pg-") as folder:
        if url.password is not None:
            passfile = os.path.join(folder, "pgpass")
            _create_private(Path(passfile))
            escaped = lambda text: text.replace("\\", "\\\\").replace(":", "\\:")  # noqa: E731
            with open(passfile, "w") as handle:
                handle.write(f"*:*:*:*:{escaped(url.password)}\n")
            env["PGPASSFILE"] = passfile
        yield env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{os.path.basename(command[0])} failed: {result.stderr.strip()[-2000:]}")


def _pg_dump(url: URL, target: Path) -> None:
    with _pg_environment(url) as env:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], env)


def _pg_restore(url: URL, source: Path) -> None:
    with _pg_environment(url) as env:
        _run([_tool("pg_restore"), "--list", str(source)], env)  # a readable archive, before touching anything
        # One transaction: a restore that fails halfway leaves the database empty, not half-filled.
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={url.database}", str(source)], env)
