"""`snp init-db` on an empty database gives exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from snp_service import create_app
from snp_service.cli import snp
from snp_service.core.extensions import db


def test_init_db_matches_the_models(empty_database_url):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    result = app.test_cli_runner().invoke(snp, ["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
        tables = set(inspect(connection).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {"slot", "booking", "patient", "audit_event", "user_account"} <= tables


def test_init_db_is_rerunnable(empty_database_url):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    runner = app.test_cli_runner()
    assert runner.invoke(snp, ["init-db"]).exit_code == 0
    assert runner.invoke(snp, ["init-db"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_migrated_database_holds_the_overlap_rule(empty_database_url):
    """The constraint/triggers must come from the migration too, not only from create_all."""
    from datetime import datetime, timedelta

    import pytest
    from sqlalchemy.exc import IntegrityError

    from snp_service.models import Cpts, Practitioner, Slot
    from snp_service.core.timeutil import UTC

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    assert app.test_cli_runner().invoke(snp, ["init-db"]).exit_code == 0
    with app.app_context():
        cpts = Cpts(name="C", population=1)
        practitioner = Practitioner(rpps="12345678901", first_name="A", last_name="B", cpts=[cpts])
        start = datetime(2030, 1, 1, 9, tzinfo=UTC)
        db.session.add_all([cpts, practitioner, Slot(practitioner=practitioner, start_at=start,
                                                     end_at=start + timedelta(minutes=15))])
        db.session.commit()
        db.session.add(Slot(practitioner=practitioner, start_at=start + timedelta(minutes=5),
                            end_at=start + timedelta(minutes=20)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()


def test_migrated_sqlite_holds_the_models_overlap_triggers(empty_database_url):
    """The SQLite triggers that hold the overlap rule are the models' own (issue 28: one index probe per row)."""
    import pytest
    from sqlalchemy import text

    from snp_service.models.slots import SQLITE_OVERLAP_TRIGGERS

    if not empty_database_url.startswith("sqlite"):
        pytest.skip("SQLite's triggers; PostgreSQL holds the rule with its exclusion constraint (test above)")
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    assert app.test_cli_runner().invoke(snp, ["init-db"]).exit_code == 0
    with app.app_context():
        stored = db.session.scalars(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()
        db.engine.dispose()
    words = lambda sql: " ".join(sql.replace("IF NOT EXISTS ", "").split())  # noqa: E731 (SQLite drops the clause)
    assert sorted(map(words, stored)) == sorted(map(words, SQLITE_OVERLAP_TRIGGERS))
    assert all("ORDER BY other.start_at DESC LIMIT 1" in sql for sql in stored)


def test_migration_gives_bookings_their_cpts_and_unlinks_non_gp_accounts(empty_database_url):
    """Issue 28's revision on a database of the previous one: each booking gets the CPTS it was made for (the
    booker's own CPTS, else one of the booker's area, else the practitioner's first), and accounts other than GP
    ones lose the practitioner link that gave them its CPTS (audited)."""
    from datetime import datetime

    from flask_migrate import upgrade
    from sqlalchemy import text

    from snp_service.core.timeutil import UTC

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="e5a7c9d2b4f6")
        rows = {
            "cpts": [(1, "A", "LV"), (2, "B", "LV"), (3, "C", "Nord")],
            # Practitioner 1 works for A and C; practitioner 2 for B only.
            "practitioner": [(1, "10000000001"), (2, "10000000002")],
            "practitioner_cpts": [(1, 1), (1, 3), (2, 2)],
            # Users: 1 regulator of C, 2 regulator of B, 3 coordinator of A linked to practitioner 1 (finding 1),
            # 4 the GP account of practitioner 1.
            "user_account": [(1, "regulator", None), (2, "regulator", None), (3, "coordinator", 1), (4, "gp", 1)],
            "user_cpts": [(1, 3), (2, 2), (3, 1), (4, 1)],
            # Slots 1-3 of practitioner 1, slot 4 of practitioner 2.
            "slot": [(slot_id, practitioner_id, datetime(2026, 7, 13, 8 + slot_id, tzinfo=UTC),
                      datetime(2026, 7, 13, 8 + slot_id, 15, tzinfo=UTC))
                     for slot_id, practitioner_id in ((1, 1), (2, 1), (3, 1), (4, 2))],
            # Booked by C's regulator; by B's regulator (A shares B's area); imported (no booker); B's own.
            "booking": [(1, 1, 1), (2, 2, 2), (3, 3, None), (4, 4, 2)],
        }
        insert = {
            "cpts": "INSERT INTO cpts (id, name, population, regulation_area, aci_missions, indicator_targets, "
                    "created_at) VALUES (:0, :1, 1000, :2, '[]', '{}', '2026-01-01')",
            "practitioner": "INSERT INTO practitioner (id, rpps, first_name, last_name, profession, sas_participation, "
                            "created_at) VALUES (:0, :1, 'A', 'B', 'gp', false, '2026-01-01')",
            "practitioner_cpts": "INSERT INTO practitioner_cpts (practitioner_id, cpts_id) VALUES (:0, :1)",
            "user_account": "INSERT INTO user_account (id, email, password_hash, role, practitioner_id, active, "
                            "created_at) VALUES (:0, 'u' || :0 || '@test.example', 'x', :1, :2, true, '2026-01-01')",
            "user_cpts": "INSERT INTO user_cpts (user_id, cpts_id) VALUES (:0, :1)",
            "slot": "INSERT INTO slot (id, practitioner_id, start_at, end_at, mode, status, created_at, updated_at) "
                    "VALUES (:0, :1, :2, :3, 'office', "
                    "'booked', '2026-01-01', '2026-01-01')",
            "booking": "INSERT INTO booking (id, slot_id, booked_by_id, channel, status, by_treating_doctor, created_at) "
                       "VALUES (:0, :1, :2, '116117', 'booked', false, '2026-01-01')",
        }
        with db.engine.begin() as connection:
            for table, values in rows.items():
                for row in values:
                    connection.execute(text(insert[table]), {str(i): v for i, v in enumerate(row)})
        upgrade()
        with db.engine.connect() as connection:
            cpts_of = dict(connection.execute(text("SELECT id, cpts_id FROM booking")).all())
            linked = dict(connection.execute(text("SELECT id, practitioner_id FROM user_account")).all())
            audited = connection.execute(text("SELECT object_id, actor_label FROM audit_event "
                                              "WHERE action = 'user.practitioner_unlink'")).all()
        db.engine.dispose()
    assert cpts_of == {1: 3, 2: 1, 3: 1, 4: 2}
    assert linked == {1: None, 2: None, 3: None, 4: 1}
    assert [(object_id, label) for object_id, label in audited] == [(3, "migration:f2b9d4e6a8c1")]


def test_upgrading_keeps_the_rows_that_reference_a_rebuilt_table(empty_database_url):
    """On SQLite, Alembic's batch mode rebuilds a table (copy, drop, rename): with foreign keys on, dropping
    ``user_account`` cascaded to ``user_cpts`` and emptied every account's CPTS (issue 28's e-mail revision).
    The migrations run with foreign keys off, checked afterwards; on PostgreSQL nothing is rebuilt."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="a7d2e9c4b1f8")  # before the revision that rebuilds user_account on SQLite
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO cpts (id, name, population, aci_missions, indicator_targets, "
                                    "created_at) VALUES (1, 'A', 1000, '[]', '{}', '2026-01-01')"))
            connection.execute(text("INSERT INTO user_account (id, email, password_hash, role, active, created_at) "
                                    "VALUES (1, 'regulation@test.example', 'x', 'regulator', true, '2026-01-01')"))
            connection.execute(text("INSERT INTO user_cpts (user_id, cpts_id) VALUES (1, 1)"))
        upgrade()
        with db.engine.connect() as connection:
            kept = connection.execute(text("SELECT user_id, cpts_id FROM user_cpts")).all()
        db.engine.dispose()
    assert kept == [(1, 1)]


def test_migrated_database_takes_the_patient_indicators(empty_database_url):
    """Issue 24: the indicators' check of known codes comes from the migration too, widened to the new figures."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from snp_service.models import Cpts, IndicatorValue

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    assert app.test_cli_runner().invoke(snp, ["init-db"]).exit_code == 0
    with app.app_context():
        cpts = Cpts(name="C", population=1)
        db.session.add(cpts)
        db.session.commit()
        db.session.add(IndicatorValue(cpts_id=cpts.id, period="2030-07", code="confirmed_share", value=0.5))
        db.session.commit()
        db.session.add(IndicatorValue(cpts_id=cpts.id, period="2030-07", code="not_an_indicator", value=1))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()
