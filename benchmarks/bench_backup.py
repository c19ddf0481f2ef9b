"""Backup and restore at region scale (issue 27): ``snp backup`` then ``snp restore`` of one region
(1,000,000 slots, 400,000 bookings and their patients), on SQLite and on PostgreSQL.

The region comes from ``region_cache`` (a fresh working copy), stamped at the latest migration as a
production database is. The backup is ``ops.backup.backup`` (what ``snp backup`` runs); the restore is the
``snp restore`` command itself (load into an empty database, migrations, audit event). The restored database
must hold the same rows (slot, booking, patient, supplement_line, audit_event + the restore's own event).
Figures are printed and written to benchmarks/output/bench_backup.json, never asserted.

    python benchmarks/bench_backup.py                   # SQLite and PostgreSQL, one region
    python benchmarks/bench_backup.py --quick           # a tenth of the data
    python benchmarks/bench_backup.py --only sqlite     # or --only postgresql
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from region_cache import OUTPUT, regions
from sqlalchemy import text
from sqlalchemy.engine import make_url

from snp_service import create_app
from snp_service.cli import snp
from snp_service.core.extensions import db
from snp_service.ops import backup as backups

TABLES = ("slot", "booking", "patient", "supplement_line", "audit_event", "practitioner", "user_account")


def _app(url: str):
    return create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})


def _counts(url: str) -> dict[str, int]:
    app = _app(url)
    with app.app_context():
        counts = {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}
        db.engine.dispose()
    return counts


def _size(url: str) -> int:
    if url.startswith("sqlite"):
        return Path(make_url(url).database).stat().st_size
    app = _app(url)
    with app.app_context():
        size = db.session.scalar(text("SELECT pg_database_size(current_database())"))
        db.engine.dispose()
    return size


def _stamp(url: str) -> None:
    """The region is made by create_all: mark it migrated, as a production database is."""
    from flask_migrate import stamp

    app = _app(url)
    with app.app_context():
        stamp()
        db.engine.dispose()


def _empty_target(url: str, folder: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{folder / 'restored.sqlite3'}"
    import psycopg

    admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_restored WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_restored")
    return parsed.set(database="bench_restored").render_as_string(hide_password=False)


def _drop_target(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    import psycopg

    admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_restored WITH (FORCE)")


def measure(url: str) -> dict:
    _stamp(url)
    before = _counts(url)
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=OUTPUT))
    try:
        started = time.perf_counter()
        file = backups.backup(url, folder / "backups", keep_days=14)
        backup_seconds = time.perf_counter() - started
        target = _empty_target(url, folder)
        started = time.perf_counter()
        result = _app(target).test_cli_runner().invoke(snp, ["restore", str(file)])
        restore_seconds = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        after = _counts(target)
        _drop_target(target)
        source_size = _size(url)
        return {"slots": before["slot"], "bookings": before["booking"], "backup_seconds": round(backup_seconds, 1),
                "backup_mib": round(file.stat().st_size / 2**20, 1),
                "database_mib": round(source_size / 2**20, 1),
                "restore_seconds": round(restore_seconds, 1),
                "rows_equal": after == before | {"audit_event": before["audit_event"] + 1}}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    options = parser.parse_args()
    figures = {}
    for dialect in ("sqlite", "postgresql"):
        if options.only and options.only != dialect:
            continue
        with regions([1], postgresql=dialect == "postgresql", quick=options.quick) as built:
            figures[dialect] = measure(built[1].url)
        print(dialect, json.dumps(figures[dialect]), flush=True)
    (OUTPUT / "bench_backup.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
