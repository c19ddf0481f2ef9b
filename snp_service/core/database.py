"""Database plumbing: the column type of instants, the one way to write, the ways to read, the wiring.

- ``UTCDateTime`` stores instants in UTC (``timestamptz`` on PostgreSQL, UTC
  text on SQLite) and always gives back aware datetimes.
- Writing: ``with write_transaction():`` around a service's changes, made through
  the session (ORM objects, or one Core statement for many rows); ``fast_paths`` holds
  the measured ways past the ORM (``insert_row``, ``insert_many``, ``execute_core``).
- Reading: ``db.session.execute`` / ``scalars`` / ``get``.
- Read-only requests on PostgreSQL run their statements in autocommit
  (``begin_read_request``): no BEGIN and COMMIT round trips around a search.
- What differs between SQLite and PostgreSQL stays here (``utc_hour_text``, the
  SQLite pragmas and math functions, ``BEGIN IMMEDIATE``); ``configure_database``
  wires it to the application's engine and session (called by ``create_app``).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask, Response, request
from sqlalchemy import Boolean, DateTime, event, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from .extensions import db

_BEGIN_OPTION = "snp_sqlite_begin"
# Primary keys are INTEGER columns: 32 bits on PostgreSQL. A larger id names nothing, and sent
# to the database it would fail (PostgreSQL "out of range", SQLite OverflowError past 2**63).
MAX_ID = 2 ** 31 - 1
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc_hour_text(column):
    """SQL: the UTC hour of an instant column as ``YYYY-MM-DD HH`` text, cheap on both databases."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)  # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC


def configure_database(app: Flask) -> None:
    """Attach the plumbing to the app's engines and to the session; after ``db.init_app(app)``."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            wire_sqlite_engine(engine)
    # On the session factory of Flask-SQLAlchemy's scoped session (listening twice is a no-op).
    for name, listener in (("after_flush", _mark_flushed), ("after_transaction_end", _clear_flushed),
                           ("after_commit", _keep_inserted_rows), ("after_rollback", _drop_inserted_rows)):
        event.listen(db.session, name, listener)
    app.before_request(begin_read_request)
    app.after_request(end_read_transaction)


# --- writing -------------------------------------------------------------------------------------------------


@contextmanager
def write_transaction():
    """Run a service's writes as one transaction: commit on success, roll back on error.

    It is the one unit of work, so it refuses two mistakes that would commit what should not be:
    a nested call (it would commit the outer transaction's partial work, which the outer failure
    could then no longer take back: a service called inside another's transaction uses its
    in-transaction variant instead), and ORM changes made before it started (it would commit them
    as its own).

    On SQLite whatever the request read before (its user, say) is finished first, so
    the write transaction holds the write lock from its first statement. On
    PostgreSQL (READ COMMITTED) the request's read transaction simply goes on: each
    statement sees the latest commits, and the constraints settle the races; a read
    request's autocommit connection (``begin_read_request``) is handed back first.
    """
    session = db.session()
    if session.info.get(_WRITING):
        raise RuntimeError("write_transaction cannot be nested: call the in-transaction variant of the inner service")
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        raise RuntimeError("ORM changes made outside write_transaction would be committed with it")
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            session.commit()  # reads only (checked above)
        session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
    elif _in_autocommit(session):
        session.commit()  # hand back the read request's autocommit connection; the writes get a transaction
    session.info[_WRITING] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITING, None)


# Session.info keys: inside write_transaction; the current transaction has flushed changes.
_WRITING = "snp_writing"
_FLUSHED = "snp_flushed"


def _mark_flushed(session, flush_context) -> None:
    session.info[_FLUSHED] = True


def _clear_flushed(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FLUSHED, None)


# Objects made by ``fast_paths.insert_row`` in the current transaction. A rollback takes their rows away, but
# the session took them for loaded rows and would keep them (SQLite even reuses their ids): they go too.
INSERTED_ROWS = "snp_inserted_rows"


def _keep_inserted_rows(session) -> None:
    session.info.pop(INSERTED_ROWS, None)


def _drop_inserted_rows(session) -> None:
    for row in session.info.pop(INSERTED_ROWS, ()):
        if row in session:
            session.expunge(row)


class member_of(ColumnElement):
    """``column IN (subquery)``, written so that the subquery's few rows drive the look-up on every database.

    PostgreSQL plans ``IN (subquery)`` as a hash semi-join that reads the whole outer table
    (every practitioner of the database, to keep the few hundred of a regulation area); as
    ``= ANY(ARRAY(subquery))`` the subquery runs first and each of its ids is one index probe.
    SQLite already drives ``IN (subquery)`` from the subquery.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition, not a boolean column: no "= 1" appended on SQLite
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("subquery", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, subquery):
        self.column, self.subquery = column, subquery


@compiles(member_of)
def _member_of(element, compiler, **kw):
    return compiler.process(element.column.in_(element.subquery), **kw)


@compiles(member_of, "postgresql")
def _member_of_postgresql(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY({compiler.process(element.subquery, **kw)}))"


def constraint_name(error: IntegrityError) -> str:
    """The violated constraint's name, or the driver's message on SQLite (which has none)."""
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name or str(error.orig)


# --- reading -------------------------------------------------------------------------------------------------


def begin_read_request() -> None:
    """Run a safe-method request's statements in autocommit on PostgreSQL.

    Under READ COMMITTED each statement sees the latest commits whether or not a
    transaction wraps it, so for reads a transaction only adds the BEGIN and COMMIT
    round trips: two of the five a search would pay. A write inside such a request
    still gets its own transaction (``write_transaction``); a read request must not
    change ORM objects outside it (nothing would roll them back). Requests that need
    no database (unknown URLs, static files, health probes) are left alone: liveness
    must not depend on the database, and readiness reports its failure itself.
    """
    if request.method not in _SAFE_METHODS or not _uses_database(request.endpoint):
        return
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _uses_database(endpoint: str | None) -> bool:
    return endpoint is not None and endpoint.rpartition(".")[2] != "static" and not endpoint.startswith("health.")


def _in_autocommit(session: Session) -> bool:
    if not session.in_transaction():
        return False
    return session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def end_read_transaction(response: Response) -> Response:
    """End a successful read-only request's transaction with COMMIT instead of the pool's ROLLBACK.

    psycopg forgets every prepared statement on ROLLBACK (it cannot tell what the
    transaction undid), so requests ending that way had PostgreSQL plan each of their
    queries again on the next request. Safe methods never write (writes go through
    ``write_transaction``, which ends its own transaction), so the COMMIT keeps nothing
    that a ROLLBACK would have undone; a failed request, or one with pending changes,
    is left to the ROLLBACK all the same. (On PostgreSQL, ``begin_read_request`` runs
    most reads in autocommit: there this COMMIT and the ROLLBACK send nothing.)
    """
    if request.method not in _SAFE_METHODS or response.status_code >= 400:
        return response
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return response
    try:
        session.commit()
    except DBAPIError:
        session.rollback()  # the connection is gone or broken; the pool replaces it
    return response


# --- SQLite ------------------------------------------------------------------------------------------------


def wire_sqlite_engine(engine) -> None:
    """The pragmas, math functions and ``BEGIN IMMEDIATE`` of this module on a SQLite engine (the practice
    databases are such engines, beside the application's)."""
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)


def _sqlite_on_connect(dbapi_connection, connection_record):
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    _ensure_sqlite_math(dbapi_connection, cursor)
    cursor.close()


def _ensure_sqlite_math(dbapi_connection, cursor) -> None:
    # The search measures distances in SQL; SQLite has these functions only when built with its
    # math functions (most builds are): supply them otherwise.
    try:
        cursor.execute("SELECT asin(sqrt(power(sin(radians(0)), 2) + cos(0)))")
    except dbapi_connection.OperationalError:
        for name, arity, function in _SQLITE_MATH:
            dbapi_connection.create_function(name, arity, _like_sqlite(function), deterministic=True)


_SQLITE_MATH = (("asin", 1, math.asin), ("cos", 1, math.cos), ("power", 2, math.pow), ("radians", 1, math.radians),
                ("sin", 1, math.sin), ("sqrt", 1, math.sqrt))


def _like_sqlite(function):
    # As SQLite's own math functions: NULL in, or a value out of the domain, gives NULL.
    def sql_function(*args):
        if None in args:
            return None
        try:
            return function(*args)
        except ValueError:
            return None
    return sql_function


def _sqlite_on_begin(conn):
    # BEGIN IMMEDIATE for write_transaction: the write lock from the first statement.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN_OPTION, 'DEFERRED')}")
