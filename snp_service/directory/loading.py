"""Loading the extract: stream it into a new generation, then switch to it in one transaction.

Readers (``search.py``) read the rows of the current load only, so during a load they keep seeing
the previous one, and after the switch the new one: never half of either. A malformed file (or any
failure) leaves the current load as it was, and its own rows are deleted. Rows are written in
batches, each its own short transaction, so a load holds no lock for its whole length (SQLite's
writer lock would stop every booking for the minute a national file takes).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, select, update

from .. import audit
from ..core.database import write_transaction
from ..core.errors import Invalid
from ..core.extensions import db
from ..core.fast_paths import insert_many
from ..core.timeutil import utcnow
from ..models import DirectoryEntry, DirectoryLoad, DirectoryLoadStatus, DirectoryNameWord
from .extract import ExtractError, ExtractReader, later_words
from .search import territory_departements

BATCH_ROWS = 5_000
_TABLE = DirectoryEntry.__table__
_WORDS = DirectoryNameWord.__table__


class MalformedExtract(Invalid):
    """Some lines of the file are wrong: nothing was changed. ``lines`` lists (line number, why)."""

    def __init__(self, message: str, lines: list[tuple[int, str]], count: int):
        super().__init__(message, code="directory_malformed", extra={"lines": lines, "count": count})
        self.lines, self.count = lines, count


@dataclass
class LoadResult:
    generation: int
    lines_read: int
    rows_kept: int
    departements: list[str]
    replaced: int | None


def load_extract(actor, path: str, departements: list[str] | None = None, *, batch_rows: int = BATCH_ROWS,
                 after_batch: Callable[[], None] | None = None) -> LoadResult:
    """Load the extract at ``path`` keeping ``departements`` (default: the territories'), and make it current.

    ``after_batch`` is called after each batch is committed (the tests read the directory there).
    """
    # The default: the territories' départements (when the operator names none).
    departements = sorted({d.strip().upper() for d in departements or () if d.strip()}) or sorted(territory_departements())
    if not departements:
        raise Invalid("Aucun département à charger : aucune CPTS n'a de commune ; précisez --departments",
                      code="no_departement", fields={"departments": ["required when no territory exists"]})
    keep = set(departements)
    with write_transaction():
        _drop_unfinished()
        load = DirectoryLoad(status=DirectoryLoadStatus.LOADING.value, source=os.path.basename(path)[:300],
                             departements=departements, lines_read=0, rows_kept=0)
        db.session.add(load)
        db.session.flush()
        generation = load.id
    try:
        with open(path, "rb") as stream:
            reader = ExtractReader(stream)
            kept, batch = 0, []
            for row in reader.rows(keep):
                if reader.error_count:
                    continue  # the file will be refused: keep reading only to list its wrong lines
                batch.append(row)
                if len(batch) >= batch_rows:
                    kept += _write(batch, generation, after_batch)
                    batch = []
            if reader.error_count:
                raise MalformedExtract(f"Extraction refusée : {reader.error_count} ligne(s) incorrecte(s), "
                                       "l'annuaire n'a pas changé", reader.errors, reader.error_count)
            kept += _write(batch, generation, after_batch)
    except ExtractError as error:
        _fail(generation)
        raise Invalid(f"Extraction refusée : {error}", code="directory_malformed") from None
    except BaseException:
        _fail(generation)
        raise
    with write_transaction():
        previous = db.session.scalar(select(DirectoryLoad.id).where(
            DirectoryLoad.status == DirectoryLoadStatus.CURRENT.value))
        db.session.execute(update(DirectoryLoad).where(DirectoryLoad.status == DirectoryLoadStatus.CURRENT.value)
                           .values(status=DirectoryLoadStatus.REPLACED.value))
        db.session.execute(update(DirectoryLoad).where(DirectoryLoad.id == generation).values(
            status=DirectoryLoadStatus.CURRENT.value, lines_read=reader.lines_read, rows_kept=kept,
            finished_at=utcnow()))
        audit.record(actor, "directory.load", "directory_load",
                     before={"generation": previous},
                     after={"generation": generation, "rows_kept": kept, "lines_read": reader.lines_read,
                            "departements": departements})
    # Readers follow the current generation from the commit above: the previous rows are unread now.
    with write_transaction():
        _delete_rows(lambda column: column != generation)
    return LoadResult(generation, reader.lines_read, kept, departements, previous)


def _write(batch: list[dict], generation: int, after_batch) -> int:
    if not batch:
        return 0
    words = {(word, row["rpps"]) for row in batch for word in later_words(row)}
    with write_transaction():
        insert_many(_TABLE, batch, same={"generation": generation})
        insert_many(_WORDS, [{"word_key": word, "rpps": rpps} for word, rpps in sorted(words)],
                    same={"generation": generation})
    if after_batch is not None:
        after_batch()
    return len(batch)


def _fail(generation: int) -> None:
    db.session.rollback()
    with write_transaction():
        _delete_rows(lambda column: column == generation)
        db.session.execute(update(DirectoryLoad).where(DirectoryLoad.id == generation).values(
            status=DirectoryLoadStatus.FAILED.value, finished_at=utcnow()))


def _drop_unfinished() -> None:
    """Rows of a load that never finished (the process was killed): nobody reads them."""
    unfinished = select(DirectoryLoad.id).where(DirectoryLoad.status == DirectoryLoadStatus.LOADING.value)
    _delete_rows(lambda column: column.in_(unfinished))
    db.session.execute(update(DirectoryLoad).where(DirectoryLoad.status == DirectoryLoadStatus.LOADING.value)
                       .values(status=DirectoryLoadStatus.FAILED.value, finished_at=utcnow()))


def _delete_rows(generations) -> None:
    """A load's rows, all of them: its entries and their name words (``generations`` maps a generation column to
    the condition choosing the loads)."""
    for model in (DirectoryEntry, DirectoryNameWord):
        db.session.execute(delete(model).where(generations(model.generation)))
