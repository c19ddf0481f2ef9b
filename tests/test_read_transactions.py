"""How requests use database transactions.

Reads end with COMMIT (PostgreSQL keeps their prepared plans) and, on PostgreSQL, run in
autocommit (no BEGIN/COMMIT round trips); writes always get a transaction of their own.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from snp_service.core.database import begin_read_request, end_read_transaction, write_transaction
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Practitioner

from .conftest import TEST_DB


@pytest.fixture
def transaction_ends(app):
    ends: list[str] = []
    with app.app_context():
        engine = db.engine
    listeners = [(engine, "commit", lambda conn: ends.append("commit")),
                 (engine, "rollback", lambda conn: ends.append("rollback"))]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    yield ends
    for target, name, fn in listeners:
        event.remove(target, name, fn)


def _regulator_with_a_slot(world):
    cpts = world.cpts(regulation_area="Vendée")
    practitioner = world.practitioner(cpts)
    slot = world.slot(practitioner, utcnow() + timedelta(hours=2))
    return world.headers(world.user("regulator", cpts)), slot


def test_a_search_commits_its_read_and_a_lost_booking_rolls_back(client, world, transaction_ends):
    headers, slot = _regulator_with_a_slot(world)
    world.booking(slot)
    transaction_ends.clear()

    found = client.get("/api/v1/slots/search", headers=headers)
    assert found.status_code == 200
    assert transaction_ends == ["commit"]

    transaction_ends.clear()
    lost = client.post("/api/v1/bookings", headers=headers, json={
        "slot_id": slot.id, "channel": "116117",
        "patient": {"first_name": "Jeanne", "last_name": "Martin", "birth_date": "1950-02-03", "phone": "0612345678"}})
    assert lost.status_code == 409
    assert "rollback" in transaction_ends


@pytest.mark.parametrize("status, pending", [(200, True), (500, False)])
def test_a_read_request_commits_only_a_clean_success(app, world, status, pending):
    cpts = world.cpts()
    practitioner_id = world.practitioner(cpts, last_name="Durand").id
    with app.test_request_context("/api/v1/practitioners", method="GET"):
        practitioner = db.session.get(Practitioner, practitioner_id)
        practitioner.last_name = "Changed during a GET"
        if not pending:  # written without the ORM's knowledge, then the request failed
            db.session.flush()
        end_read_transaction(app.response_class(status=status))
        db.session.rollback()
        assert db.session.get(Practitioner, practitioner_id).last_name == "Durand"


@pytest.mark.skipif(TEST_DB != "postgresql", reason="prepared statements are PostgreSQL's")
def test_repeated_searches_run_a_prepared_statement(client, world):
    headers, _slot = _regulator_with_a_slot(world)
    for _ in range(6):  # psycopg prepares a statement on its 5th run on a connection
        assert client.get("/api/v1/slots/search", headers=headers).status_code == 200
    with client.application.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM slot" in statement for statement in prepared)


@pytest.fixture
def transaction_states(app):
    """The server-side transaction status after each statement (PostgreSQL: idle, or in a transaction)."""
    states: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        states.append(cursor.connection.info.transaction_status.name)

    event.listen(engine, "after_cursor_execute", record)
    yield states
    event.remove(engine, "after_cursor_execute", record)


@pytest.mark.skipif(TEST_DB != "postgresql", reason="autocommit reads are PostgreSQL's")
def test_a_search_runs_without_a_transaction_and_a_booking_within_one(client, world, transaction_states):
    headers, slot = _regulator_with_a_slot(world)
    transaction_states.clear()

    assert client.get("/api/v1/slots/search", headers=headers).status_code == 200
    assert transaction_states and set(transaction_states) == {"IDLE"}

    transaction_states.clear()
    booked = client.post("/api/v1/bookings", headers=headers, json={
        "slot_id": slot.id, "channel": "116117",
        "patient": {"first_name": "Jeanne", "last_name": "Martin", "birth_date": "1950-02-03", "phone": "0612345678"}})
    assert booked.status_code == 201
    assert "INTRANS" in transaction_states and "IDLE" not in transaction_states


@pytest.mark.skipif(TEST_DB != "postgresql", reason="autocommit reads are PostgreSQL's")
def test_a_write_in_a_read_request_is_still_all_or_nothing(app, world):
    cpts = world.cpts()
    first, second = world.practitioner(cpts, last_name="Durand"), world.practitioner(cpts, last_name="Morel")
    with app.test_request_context("/api/v1/practitioners", method="GET"):
        begin_read_request()
        assert db.session.get(Practitioner, first.id).last_name == "Durand"  # read in autocommit
        with pytest.raises(RuntimeError), write_transaction():
            db.session.get(Practitioner, first.id).last_name = "Changed"
            db.session.get(Practitioner, second.id).last_name = "Changed"
            db.session.flush()
            raise RuntimeError("the second half of the change fails")
        db.session.expire_all()
        assert {p.last_name for p in db.session.scalars(select(Practitioner))} == {"Durand", "Morel"}


@pytest.mark.skipif(TEST_DB != "postgresql", reason="autocommit reads are PostgreSQL's")
def test_orm_changes_left_outside_write_transaction_in_a_read_request_are_refused(app, world):
    cpts = world.cpts()
    practitioner_id = world.practitioner(cpts, last_name="Durand").id
    with app.test_request_context("/api/v1/practitioners", method="GET"):
        begin_read_request()
        db.session.get(Practitioner, practitioner_id).last_name = "Changed before the write"
        with pytest.raises(RuntimeError):
            with write_transaction():
                db.session.flush()  # not reached: write_transaction refuses to start
        db.session.rollback()
        assert db.session.get(Practitioner, practitioner_id).last_name == "Durand"


def test_liveness_and_unknown_urls_never_open_a_database_connection(app, client):
    with app.app_context():
        engine = db.engine
    opened: list[object] = []

    def record(connection):
        opened.append(connection)

    event.listen(engine, "engine_connect", record)
    try:
        assert client.get("/healthz").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    finally:
        event.remove(engine, "engine_connect", record)
    assert opened == []
