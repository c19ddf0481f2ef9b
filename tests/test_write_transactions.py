"""The one way to write: ``write_transaction``, all or nothing, never nested, never carrying earlier changes."""
from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from snp_service.core.database import write_transaction
from snp_service.core.extensions import db
from snp_service.core.fast_paths import insert_row
from snp_service.models import Practitioner


@pytest.fixture
def two(world):
    cpts = world.cpts()
    return world.practitioner(cpts, last_name="Durand").id, world.practitioner(cpts, last_name="Morel").id


def names() -> set[str]:
    db.session.rollback()
    db.session.expire_all()
    return {p.last_name for p in db.session.scalars(select(Practitioner))}


def test_a_nested_write_transaction_is_refused_and_the_outer_failure_leaves_nothing(ctx, two):
    first, second = two
    with pytest.raises((RuntimeError, ValueError)):
        with write_transaction():
            db.session.get(Practitioner, first).last_name = "Changed by the outer one"
            db.session.flush()
            with write_transaction():  # once committed both changes, whatever the outer one did next
                db.session.get(Practitioner, second).last_name = "Changed by the inner one"
            raise ValueError("the outer transaction fails after the inner one")
    assert names() == {"Durand", "Morel"}


def test_a_nested_write_transaction_names_the_mistake(ctx, two):
    with write_transaction():
        with pytest.raises(RuntimeError, match="nested"):
            with write_transaction():
                pass


@pytest.mark.parametrize("flushed", [False, True])
def test_changes_made_before_a_write_transaction_are_not_committed_by_it(ctx, two, flushed):
    first, second = two
    db.session.get(Practitioner, first).last_name = "Changed outside any transaction"
    if flushed:
        db.session.flush()
    with pytest.raises(RuntimeError, match="outside write_transaction"):
        with write_transaction():
            db.session.get(Practitioner, second).last_name = "Changed inside"
    assert names() == {"Durand", "Morel"}


def test_a_write_transaction_after_another_one_and_after_reads_works(ctx, two):
    first, second = two
    with write_transaction():
        db.session.get(Practitioner, first).last_name = "Premier"
    assert db.session.scalar(select(Practitioner.last_name).where(Practitioner.id == second)) == "Morel"
    with write_transaction():
        db.session.get(Practitioner, second).last_name = "Second"
    assert names() == {"Premier", "Second"}


class _Scratch(DeclarativeBase):
    """A table of this test's own, outside the application's models (and their migrations)."""


class Note(_Scratch):
    __tablename__ = "test_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), server_default="memo")
    weight: Mapped[int] = mapped_column(Integer, server_default=text("3"))
    pinned: Mapped[bool] = mapped_column(default=False)


@pytest.fixture
def notes(ctx):
    _Scratch.metadata.create_all(db.engine)
    yield
    db.session.rollback()
    _Scratch.metadata.drop_all(db.engine)


def test_insert_row_leaves_server_defaults_to_the_server(notes):
    with write_transaction():
        given = insert_row(Note, {"body": "given", "kind": "task", "weight": 1})
        defaulted = insert_row(Note, {"body": "defaulted"})
    assert (defaulted.kind, defaulted.weight, defaulted.pinned) == ("memo", 3, False)  # the object, as loaded
    assert (given.kind, given.weight) == ("task", 1)
    stored = db.session.execute(select(Note.body, Note.kind, Note.weight).order_by(Note.id)).all()
    assert [tuple(row) for row in stored] == [("given", "task", 1), ("defaulted", "memo", 3)]
