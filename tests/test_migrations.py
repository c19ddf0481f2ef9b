"""`snp init-db` on an empty database gives exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from snp_service import create_app
from snp_service.cli import snp
from snp_service.extensions import db


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
    from snp_service.timeutil import UTC

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
