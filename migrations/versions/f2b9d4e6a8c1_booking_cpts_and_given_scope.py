"""booking.cpts_id: a booking belongs to the CPTS it was made for; accounts keep only the scope they were given

Issue 28, findings 1, 2 and 5. Scope is now the CPTS an account was given, never one inherited
through a practitioner, and a booking's patient is seen only inside the CPTS it was made for.

- ``booking.cpts_id`` is added (nullable: a worker of the previous version still running during the
  upgrade writes none; such a row is seen only by an admin and the practitioner) and filled for the
  existing rows as the service now chooses it: among the practitioner's CPTS, one the booker was given,
  else one of the booker's regulation areas, else (imported history, bookers gone) the practitioner's
  first CPTS. Lowest id first, as the service does.
- Accounts other than GP ones lose their practitioner link: it gave them that practitioner's CPTS
  (finding 1), and only a GP account is linked now. Each unlinked account is audited.

Revision ID: f2b9d4e6a8c1
Revises: f2b8d4a6c1e3
Create Date: 2026-12-08 10:00:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b9d4e6a8c1'
down_revision = 'f2b8d4a6c1e3'
branch_labels = None
depends_on = None

ACTOR = f"migration:{revision}"

# Among the CPTS of the booked slot's practitioner (pc), the first the booker was given, else the first
# sharing a regulation area with one the booker was given, else the first.
_PRACTITIONER_CPTS = """
    FROM slot s JOIN practitioner_cpts pc ON pc.practitioner_id = s.practitioner_id
    WHERE s.id = booking.slot_id"""
FILL_BOOKING_CPTS = f"""
UPDATE booking SET cpts_id = COALESCE(
    (SELECT MIN(pc.cpts_id) {_PRACTITIONER_CPTS}
        AND pc.cpts_id IN (SELECT uc.cpts_id FROM user_cpts uc WHERE uc.user_id = booking.booked_by_id)),
    (SELECT MIN(pc.cpts_id) {_PRACTITIONER_CPTS}
        AND pc.cpts_id IN (SELECT area.id FROM cpts area JOIN cpts own ON own.regulation_area = area.regulation_area
                           JOIN user_cpts uc ON uc.cpts_id = own.id
                           WHERE uc.user_id = booking.booked_by_id AND own.regulation_area <> '')),
    (SELECT MIN(pc.cpts_id) {_PRACTITIONER_CPTS}))
WHERE cpts_id IS NULL
"""


def upgrade():
    # A plain ADD COLUMN on both databases: the booking table is never rebuilt. SQLite takes the foreign key
    # only inline (Alembic would rebuild the table for it).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE booking ADD COLUMN cpts_id INTEGER "
                   "CONSTRAINT fk_booking_cpts_id_cpts REFERENCES cpts (id)")
    else:
        op.add_column('booking', sa.Column('cpts_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_booking_cpts_id_cpts'), 'booking', 'cpts', ['cpts_id'], ['id'])
    op.execute(FILL_BOOKING_CPTS)
    connection = op.get_bind()
    linked = connection.execute(sa.text(
        "SELECT id, practitioner_id FROM user_account WHERE role <> 'gp' AND practitioner_id IS NOT NULL")).all()
    if linked:
        now = datetime.now(timezone.utc)
        audit = sa.table('audit_event', sa.column('at', sa.DateTime(timezone=True)), sa.column('actor_label'),
                         sa.column('action'), sa.column('object_type'), sa.column('object_id'),
                         sa.column('before', sa.JSON()), sa.column('after', sa.JSON()))
        connection.execute(audit.insert(), [
            {"at": now, "actor_label": ACTOR, "action": "user.practitioner_unlink", "object_type": "user_account",
             "object_id": user_id, "before": {"practitioner_id": practitioner_id}, "after": {"practitioner_id": None}}
            for user_id, practitioner_id in linked])
        connection.execute(sa.text(
            "UPDATE user_account SET practitioner_id = NULL WHERE role <> 'gp' AND practitioner_id IS NOT NULL"))


def downgrade():
    # The unlinked practitioners are not put back: they widened the accounts' scope (the audit names them).
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('booking', schema=None) as batch_op:  # the column goes with its foreign key
            batch_op.drop_column('cpts_id')
    else:
        op.drop_constraint(op.f('fk_booking_cpts_id_cpts'), 'booking', type_='foreignkey')
        op.drop_column('booking', 'cpts_id')
