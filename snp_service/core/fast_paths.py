"""The measured fast paths past the ORM's bookkeeping: one row in, many rows in, Core statements out.

- ``insert_row``: one new row with a plain ``INSERT ... RETURNING``, given back as a persistent object
  (the booking request: the unit of work would emit the same INSERT with several times the bookkeeping);
- ``insert_many``: many new rows straight through the driver (PostgreSQL: ``COPY``), for a history import;
- ``execute_core``: a Core statement on the session's connection (search, token look-up, the booking's
  claim), and ``as_loaded``, which turns its rows into the session's objects.

Everything else reads and writes through the session, the ordinary way; each caller of these names the
measurement that earned it. Writes still go inside ``database.write_transaction``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from .database import INSERTED_ROWS, UTCDateTime
from .extensions import db


# --- writing -------------------------------------------------------------------------------------------------


def insert_row(model: type, values: dict):
    """Write one new row with a plain ``INSERT ... RETURNING``; give it back as a persistent object.

    For the hot write paths (a booking during a call): the unit of work would emit the same
    INSERT with several times the bookkeeping. Columns left out take their defaults: Python
    defaults are computed here, server defaults are left to the database and read back by the
    RETURNING, so the object holds every column and reading it later never goes back to the database.
    """
    table = model.__table__
    python_defaults, server_defaulted, empty = _insert_plan(table)
    row = {key: None for key in empty if key not in values}
    row |= {key: default.arg(None) if default.is_callable else default.arg
            for key, default in python_defaults if key not in values}
    row |= values
    from_server = tuple(key for key in server_defaulted if key not in values)
    returned = execute_core(_insert_returning(table, from_server), row).one()
    row["id"] = returned[0]
    row.update(zip(from_server, returned[1:]))
    loaded = _add_as_loaded(db.session(), model, row)
    db.session.info.setdefault(INSERTED_ROWS, []).append(loaded)
    return loaded


@lru_cache(maxsize=None)
def _insert_plan(table) -> tuple[tuple, tuple[str, ...], tuple[str, ...]]:
    """The table's columns without a value given: (key, Python default) pairs, keys with a server default, the rest."""
    columns = [column for column in table.columns if not column.primary_key]
    python_defaults = tuple((c.key, c.default) for c in columns if c.default is not None)
    server_defaulted = tuple(c.key for c in columns if c.default is None and c.server_default is not None)
    empty = tuple(c.key for c in columns if c.default is None and c.server_default is None)
    return python_defaults, server_defaulted, empty


@lru_cache(maxsize=None)
def _insert_returning(table, from_server: tuple[str, ...]):
    return insert(table).returning(table.c.id, *(table.c[key] for key in from_server))


def insert_many(table, rows: list[dict], *, same: dict | None = None, new_ids: bool = False) -> list[int]:
    """Write many new rows of ``table`` straight through the driver, in one go; their ids if ``new_ids``.

    The measured fast path of a 50,000-row history import: through Core, each value went through its
    column type's processor one by one and each row through the statement's parameter building, three
    quarters of the import's time. Here instants are converted by ``_driver_instant`` (what ``UTCDateTime``
    binds: a naive UTC text on SQLite, the aware value on PostgreSQL), column by column, every other value
    goes to the driver as it is (PostgreSQL: through ``COPY``), and Python defaults are filled in as
    ``insert_row`` does. ``rows`` all have
    the same keys; ``same`` holds the values every row shares (converted once). With ``new_ids`` the ids
    are taken first (``_take_ids``) and written explicitly: they come back in the rows' order, with no
    RETURNING (which SQLAlchemy sends one row at a time on SQLite when the order must be kept).
    """
    if not rows:
        return []
    connection = db.session.connection()
    to_driver = _driver_instant(connection.dialect.name)
    python_defaults, _, _ = _insert_plan(table)
    same = dict(same or {})
    same |= {key: default.arg(None) if default.is_callable else default.arg
             for key, default in python_defaults if key not in rows[0] and key not in same}
    names = list(rows[0])
    columns = [[row[name] for row in rows] for name in names]
    if new_ids:
        names, columns = ["id", *names], [_take_ids(connection, table, len(rows)), *columns]
    columns = [list(map(to_driver, column)) if _is_instant(table, name) else column
               for name, column in zip(names, columns)]
    for name, value in same.items():
        names.append(name)
        columns.append([to_driver(value) if _is_instant(table, name) else value] * len(rows))
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, names, zip(*columns))
    else:
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) "
                                   f"VALUES ({', '.join(['?'] * len(names))})", list(zip(*columns)))
    return columns[0] if new_ids else []


def _copy_rows(connection, table, names: list[str], rows) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` in the session's transaction, half the time of an ``executemany``
    (one Bind/Execute per row) for 50,000 rows; a refusal (overlap, foreign key) is the usual SQLAlchemy error."""
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    dbapi = connection.dialect.dbapi
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, dbapi.Error, hide_parameters=True,
                                  dialect=connection.dialect) from error


def _is_instant(table, name: str) -> bool:
    return isinstance(table.c[name].type, UTCDateTime)


def _driver_instant(dialect: str):
    """What ``UTCDateTime`` and the dialect's own type would send for an instant (a naive value is refused)."""
    def sqlite_text(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        # SQLAlchemy's SQLite DATETIME text, 'YYYY-MM-DD HH:MM:SS.ffffff', in UTC: the "+00:00" cut off.
        return value.astimezone(timezone.utc).isoformat(" ", "microseconds")[:-6]

    def aware(value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    return sqlite_text if dialect == "sqlite" else aware


def _take_ids(connection, table, count: int) -> list[int]:
    """``count`` primary keys for new rows of ``table``, inside the write transaction that inserts them.

    PostgreSQL: from the column's sequence, as a default would. SQLite: after the largest id, which no
    other writer can take meanwhile (``write_transaction`` holds the write lock from its first statement).
    """
    if connection.dialect.name == "postgresql":
        return list(connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table.name, count)
        ).scalars())
    last = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar()
    return list(range(last + 1, last + 1 + count))


# --- reading -------------------------------------------------------------------------------------------------


def execute_core(statement, params: dict | None = None):
    """Run a Core statement (tables and columns, no mapped classes) on the session's connection.

    ``Session.execute`` would first pass it through the ORM's statement handling: pure
    overhead on the hot paths (about 0.1 ms a statement).
    """
    return db.session.connection().execute(statement, params)


def as_loaded(model: type, values: dict):
    """The session's object for a row read with Core, as a query would give it.

    ``values`` holds every column. An object the session already has for that row wins, as
    with a query; otherwise a new one joins the session with no pending change and no history.
    """
    session = db.session()
    loaded = session.identity_map.get(identity_key(model, values["id"]))
    return loaded if loaded is not None else _add_as_loaded(session, model, values)


def _add_as_loaded(session: Session, model: type, values: dict):
    row = model(**values)
    make_transient_to_detached(row)  # as if loaded: no pending INSERT, no history
    session.add(row)
    return row
