"""SQLite overlap triggers: one index probe per row instead of a scan of the practitioner's earlier slots

The rule is unchanged (no two non-withdrawn slots of a practitioner overlap). The other slots never
overlap one another, so only the last one starting before the new slot's end can reach past its
start: the trigger reads that one row. The old triggers read every earlier slot of the practitioner,
which made a history import quadratic (issue 28, finding 9). PostgreSQL's exclusion constraint is
untouched. The SQL is copied here so that later model edits cannot change history.

Revision ID: f2b8d4a6c1e3
Revises: b3e8f1a6c2d9
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2b8d4a6c1e3'
down_revision = 'b3e8f1a6c2d9'
branch_labels = None
depends_on = None

_EVENTS = (("insert", "INSERT"), ("update", "UPDATE OF start_at, end_at, status, practitioner_id"))

_PROBE = """
CREATE TRIGGER IF NOT EXISTS tr_slot_no_overlap_{name} BEFORE {event} ON slot
WHEN NEW.status != 'withdrawn' AND EXISTS (
    SELECT 1 FROM (
        SELECT other.end_at FROM slot AS other
        WHERE other.practitioner_id = NEW.practitioner_id AND other.status != 'withdrawn'
          AND other.id IS NOT NEW.id AND other.start_at < NEW.end_at
        ORDER BY other.start_at DESC LIMIT 1) AS latest
    WHERE latest.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'ex_slot_no_overlap'); END
"""

_SCAN = """
CREATE TRIGGER IF NOT EXISTS tr_slot_no_overlap_{name} BEFORE {event} ON slot
WHEN NEW.status != 'withdrawn' AND EXISTS (
    SELECT 1 FROM slot AS other
    WHERE other.practitioner_id = NEW.practitioner_id AND other.status != 'withdrawn'
      AND other.id IS NOT NEW.id AND other.start_at < NEW.end_at AND other.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'ex_slot_no_overlap'); END
"""


def _replace_triggers(sql: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, event in _EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS tr_slot_no_overlap_{name}")
        op.execute(sql.format(name=name, event=event))


def upgrade():
    _replace_triggers(_PROBE)


def downgrade():
    _replace_triggers(_SCAN)
