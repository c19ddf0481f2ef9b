"""The restore drill (issue 27): back up a database with data, restore it into a fresh one, compare.

On the suite's database (``SNP_TEST_DB``): a SQLite file, or a new database of the throwaway PostgreSQL cluster.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from snp_service import create_app
from snp_service.bookings import booking as bookings
from snp_service.cli import snp
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Booking, SupplementLine, User
from snp_service.ops import backup as backups
from snp_service.supplements import ledger

from .factories import World
from .supplement_helpers import act


@pytest.fixture
def fresh_url(pg_cluster, tmp_path, request):
    """Fresh, empty databases: ``fresh_url("source")``, ``fresh_url("restored")``."""
    made = []

    def make(name: str) -> str:
        if pg_cluster:
            url = pg_cluster.create_database(f"snp_{name}_{request.node.name.lower()[:30]}")
        else:
            url = f"sqlite:///{tmp_path / name}.sqlite3"
        made.append(url)
        return url
    return make


def _app(url: str):
    return create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})


def _migrated_app(url: str):
    app = _app(url)
    result = app.test_cli_runner().invoke(snp, ["init-db"])
    assert result.exit_code == 0, result.output
    return app


def _patient(n: int) -> dict:
    return {"first_name": "Appel", "last_name": f"Numéro{n}", "birth_date": date(1980, 1, 1), "phone": "0612345678",
            "has_treating_doctor": "unknown"}


def _fill(world: World) -> dict:
    """A CPTS, its GPs, free and booked slots, outcomes and their supplement ledger."""
    cpts = world.cpts(regulation_area="Vendée")
    doctors = [world.practitioner(cpts) for _ in range(3)]
    regulator = world.user("regulator", cpts)
    for n, doctor in enumerate(doctors):
        for day in range(6, 11):
            act(world, doctor, f"2020-07-{day:02d}T1{n}:00")
    counts = ledger.accrue(today=date(2020, 7, 31))
    assert counts["accruals"] > 0
    free = [world.slot(doctor, utcnow() + timedelta(days=1, minutes=20 * i)).id
            for doctor in doctors for i in range(20)]
    for n, slot_id in enumerate(free[:10]):
        bookings.book(regulator, {"slot_id": slot_id, "channel": "116117", "notify_patient": False,
                                  "patient": _patient(n)})
    # The acts above are rows written by the factory, without the service's audit event.
    return {"regulator_id": regulator.id, "free_slot_ids": free[10:], "unaudited": 3 * 5,
            "booked": db.session.scalar(select(func.count(Booking.id)))}


def _row_counts() -> dict[str, int]:
    names = [table.name for table in db.metadata.sorted_tables] + ["alembic_version"]
    return {name: db.session.scalar(text(f'SELECT count(*) FROM "{name}"')) for name in names}


def _checksum(model, ids: set[int] | None = None) -> str:
    table = model.__table__
    query = select(*table.c).order_by(table.c.id)
    if ids is not None:
        query = query.where(table.c.id.in_(sorted(ids)))
    digest = hashlib.sha256()
    for row in db.session.execute(query):
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _state(ids: set[int] | None = None) -> dict:
    return {"counts": _row_counts(), "bookings": _checksum(Booking, ids), "ledger": _checksum(SupplementLine)}


def _backup(app, folder: Path) -> Path:
    result = app.test_cli_runner().invoke(snp, ["backup", "--to", str(folder)])
    assert result.exit_code == 0, result.output
    files = [path for path in folder.iterdir() if not path.name.startswith(".")]
    assert len(files) == 1
    return files[0]


def _restore(url: str, file: Path):
    app = _app(url)
    result = app.test_cli_runner().invoke(snp, ["restore", str(file)])
    assert result.exit_code == 0, result.output
    return app


def _answers_a_search(app, regulator_id: int) -> list:
    with app.app_context():
        headers = World().headers(db.session.get(User, regulator_id))
        response = app.test_client().get("/api/v1/slots/search", headers=headers)
        db.engine.dispose()
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def test_restore_drill_gives_back_every_row(fresh_url, tmp_path):
    source = _migrated_app(fresh_url("source"))
    with source.app_context():
        facts = _fill(World())
        before = _state()
        db.engine.dispose()
    assert before["counts"]["booking"] == 25 and before["counts"]["supplement_line"] > 0

    file = _backup(source, tmp_path / "backups")
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700

    restored = _restore(fresh_url("restored"), file)
    with restored.app_context():
        after = _state()
        last_event = db.session.execute(text("SELECT action, actor_label FROM audit_event ORDER BY id DESC")).first()
        db.engine.dispose()
    # The restore itself is audited in the restored database: one more event, nothing else differs.
    assert after["counts"] == before["counts"] | {"audit_event": before["counts"]["audit_event"] + 1}
    assert (after["bookings"], after["ledger"]) == (before["bookings"], before["ledger"])
    assert tuple(last_event) == ("database.restore", "cli")
    results = _answers_a_search(restored, facts["regulator_id"])
    # Free slots, and only those (the search answers its first page).
    assert results and {r["slot"]["id"] for r in results} <= set(facts["free_slot_ids"])


def test_backup_taken_while_bookings_are_made_restores_a_consistent_state(fresh_url, tmp_path):
    source = _migrated_app(fresh_url("source"))
    with source.app_context():
        facts = _fill(World())
        db.engine.dispose()
    made: list[int] = []
    enough, stop, failures = threading.Event(), threading.Event(), []

    def book_all_day():
        with source.app_context():
            try:
                regulator = db.session.get(User, facts["regulator_id"])
                for n, slot_id in enumerate(facts["free_slot_ids"]):
                    if stop.is_set():
                        break
                    booking, _ = bookings.book(regulator, {"slot_id": slot_id, "channel": "116117",
                                                           "notify_patient": False, "patient": _patient(100 + n)})
                    made.append(booking.id)
                    if len(made) >= 3:
                        enough.set()
            except Exception as error:  # noqa: BLE001 (reported by the test below)
                failures.append(error)
                enough.set()
            finally:
                db.session.remove()

    booker = threading.Thread(target=book_all_day)
    booker.start()
    assert enough.wait(60)
    file = _backup(source, tmp_path / "backups")
    at_backup_end = len(made)
    booker.join(120)
    stop.set()
    assert not failures, failures
    assert len(made) > at_backup_end or at_backup_end == len(facts["free_slot_ids"])

    restored = _restore(fresh_url("restored"), file)
    with restored.app_context():
        ids = set(db.session.scalars(select(Booking.id)))
        restored_bookings = _checksum(Booking)
        audited = db.session.scalar(text("SELECT count(*) FROM audit_event WHERE action = 'booking.create'"))
        orphans = db.session.scalar(text("SELECT count(*) FROM booking JOIN slot ON slot.id = booking.slot_id "
                                         "WHERE booking.status = 'booked' AND slot.status <> 'booked'"))
        db.engine.dispose()
    with source.app_context():
        source_ids = set(db.session.scalars(select(Booking.id)))
        same_rows = _checksum(Booking, ids)
        db.engine.dispose()
    # A snapshot: the bookings committed before some instant, each whole (its slot taken, its audit event).
    everything_booked = len(ids) == facts["booked"] + len(facts["free_slot_ids"])
    assert ids == {i for i in source_ids if i <= max(ids)}
    assert len(ids) >= facts["booked"] + 3
    assert restored_bookings == same_rows
    assert audited == len(ids) - facts["unaudited"] and orphans == 0
    # Slots still free at the backup are found in the restored database (none left when the booker won the race).
    assert _answers_a_search(restored, facts["regulator_id"]) or everything_booked


def test_restore_refuses_a_database_that_is_not_empty(fresh_url, tmp_path):
    source = _migrated_app(fresh_url("source"))
    with source.app_context():
        World().cpts()
        db.engine.dispose()
    file = _backup(source, tmp_path / "backups")
    result = source.test_cli_runner().invoke(snp, ["restore", str(file)])
    assert result.exit_code != 0
    assert "not empty" in result.output
    with source.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM cpts")) == 1
        db.engine.dispose()


def test_old_backups_are_removed_and_others_kept(tmp_path):
    now = datetime(2026, 8, 15, 2, 30, tzinfo=timezone.utc)
    folder = tmp_path / "backups"
    folder.mkdir()
    names = {"snp-20260731T023000Z.sqlite3": False, "snp-20260801T023000Z.pgdump": True,
             "snp-20260814T023000Z.sqlite3": True, "notes.txt": True, "snp-latest.sqlite3": True}
    for name in names:
        (folder / name).write_text("x")
    removed = backups.prune(folder, 14, now)
    assert [path.name for path in removed] == ["snp-20260731T023000Z.sqlite3"]
    assert {path.name for path in folder.iterdir()} == {name for name, kept in names.items() if kept}


def test_postgres_password_never_on_the_command_line(monkeypatch, tmp_path):
    """pg_dump gets the URL's password through a mode-600 password file, never through its arguments."""
    seen = {}

    def fake_run(command, env, **kwargs):
        passfile = env["PGPASSFILE"]
        seen.update(command=command, env=dict(env), mode=stat.S_IMODE(os.stat(passfile).st_mode),
                    passfile=Path(passfile).read_text())

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(backups.subprocess, "run", fake_run)
    monkeypatch.setattr(backups.shutil, "which", lambda name: f"/usr/bin/{name}")
    path = backups.backup("postgresql+psycopg://snp:s3cr:et@db.example:6543/snp?sslmode=require", tmp_path, 14)
    assert path.name.endswith(".pgdump") and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not any("s3cr" in part for part in seen["command"])
    assert not any("s3cr" in value for key, value in seen["env"].items() if key != "PGPASSFILE")
    assert seen["mode"] == 0o600 and seen["passfile"] == "*:*:*:*:s3cr\\:et\n"
    assert (seen["env"]["PGHOST"], seen["env"]["PGPORT"], seen["env"]["PGUSER"], seen["env"]["PGDATABASE"],
            seen["env"]["PGSSLMODE"]) == ("db.example", "6543", "snp", "snp", "require")
    assert not os.path.exists(seen["env"]["PGPASSFILE"])  # removed once pg_dump is done


def test_a_damaged_backup_is_refused_and_the_database_stays_empty(fresh_url, tmp_path):
    target = fresh_url("restored")
    suffix = backups.SQLITE_SUFFIX if target.startswith("sqlite") else backups.POSTGRES_SUFFIX
    damaged = tmp_path / f"snp-20260815T023000Z{suffix}"
    damaged.write_bytes(b"not a backup at all\n" * 100)
    result = _app(target).test_cli_runner().invoke(snp, ["restore", str(damaged)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert backups.existing_tables(target) == []
