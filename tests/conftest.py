"""Test fixtures: a fresh app per test on SQLite or PostgreSQL, factories, API helpers.

``SNP_TEST_DB=postgresql`` runs the suite on a throwaway PostgreSQL 15 cluster
started here. Locally it skips when the binaries are missing; with CI=true it fails.
"""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from snp_service import create_app
from snp_service.core.extensions import db

from .factories import World
from .pg_cluster import PgCluster, PostgresUnavailable

TEST_DB = os.environ.get("SNP_TEST_DB", "sqlite")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(reason: str):
    """Skip locally, fail in CI: a test CI cannot run is a test that does not exist."""
    if IN_CI:
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster():
    if TEST_DB != "postgresql":
        yield None
        return
    try:
        cluster = PgCluster().start()
    except PostgresUnavailable as error:
        need(f"PostgreSQL unavailable: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(pg_cluster):
    return pg_cluster.create_database("snp_test") if pg_cluster else None


@pytest.fixture
def empty_database_url(pg_cluster, tmp_path, request):
    """A database with no schema at all, for migration tests."""
    if pg_cluster:
        return pg_cluster.create_database(f"snp_empty_{request.node.name.lower()[:40]}")
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_schema(postgres_url):
    """On PostgreSQL the schema is created once; each test then empties the tables."""
    if postgres_url is None:
        return None
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return postgres_url


@pytest.fixture
def database_url(postgres_schema, tmp_path):
    if postgres_schema:
        return postgres_schema
    return f"sqlite:///{tmp_path / 'snp-test.sqlite3'}"


@pytest.fixture
def app(database_url):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        else:
            _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables() -> None:
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP on 127.0.0.1 (threaded), for browsers and races."""
    app.config["WTF_CSRF_SSL_STRICT"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(ctx):
    return World()


def pytest_report_header(config):
    return f"SNP test database: {TEST_DB}"
