"""Leader election: of all the scheduler instances, the one holding the lock runs the jobs.

- PostgreSQL: a session advisory lock on a dedicated connection. If the leader
  dies its connection closes and the server releases the lock; TCP keepalives
  bound how long a vanished machine keeps it.
- SQLite: an ``fcntl`` lock on a file beside the database (one machine only, as
  SQLite is). The kernel releases it when the process dies.
"""
from __future__ import annotations

import fcntl
import logging
import os
import zlib

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# One fixed 64-bit key per deployment database; the name keeps it readable in pg_locks.
ADVISORY_LOCK_KEY = zlib.crc32(b"snp-service:scheduler")


class AdvisoryLock:
    def __init__(self, url):
        # Not the app's pool: the lock lives as long as this one connection does.
        self.engine = create_engine(url, poolclass=NullPool, connect_args={
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
            "application_name": "snp-scheduler",
        })
        self.connection = None

    def acquire(self) -> bool:
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as error:
            log.warning("scheduler: database unreachable for the leader lock (%s)", type(error).__name__)
            return False
        if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}):
            self.connection = connection
            return True
        connection.close()
        return False

    def held(self) -> bool:
        try:
            return bool(self.connection.scalar(text("SELECT 1")))
        except Exception:
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()  # ends the session, which releases the advisory lock
            except Exception:
                log.debug("scheduler: leader connection already gone")
            self.connection = None


class FileLock:
    def __init__(self, path: str):
        self.path = path
        self.handle = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        return True

    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leader_lock_for(app: Flask) -> AdvisoryLock | FileLock:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    database = url.database
    if database and database != ":memory:":
        path = f"{os.path.abspath(database)}.scheduler-lock"
    else:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "scheduler.lock")
    return FileLock(path)
