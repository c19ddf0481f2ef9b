"""A throwaway PostgreSQL cluster for the test suite (and the benchmarks).

The server refuses to run as root, so when the tests run as root the cluster
belongs to the ``postgres`` user and every server command goes through
``runuser``. Trust authentication on 127.0.0.1 only; fsync off (disposable data).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time


class PostgresUnavailable(RuntimeError):
    """The binaries are missing or the throwaway server would not start."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    def __init__(self):
        self.initdb = shutil.which("initdb")
        self.pg_ctl = shutil.which("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise PostgresUnavailable("initdb/pg_ctl not found on PATH")
        self.as_root = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="snp-pg-")
        self.port = _free_port()
        self.data = os.path.join(self.dir, "data")

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> "PgCluster":
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(self.initdb, "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server (again, after ``halt``: same port, same data)."""
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(self.pg_ctl, "-D", self.data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w", "start")
        self._wait()

    def halt(self) -> None:
        """Stop the server as an outage would (every connection cut), keeping its data for ``resume``.

        ``fast``, not ``immediate``: this throwaway cluster commits asynchronously, so an immediate stop
        could lose the last commits (the test's own token, say) and the "recovery" would find them gone.
        """
        self._run(self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop")

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise PostgresUnavailable("server did not accept connections")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str, driver: bool = True) -> str:
        scheme = "postgresql+psycopg" if driver else "postgresql"
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
