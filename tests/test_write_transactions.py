"""The one way to write: ``write_transaction``, all or nothing, never nested, never carrying earlier changes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from snp_service.database import write_transaction
from snp_service.extensions import db
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
