"""every practitioner gets the secret of their iCalendar feed (no GET request has to write it)

Revision ID: a1c5e7f3b2d4
Revises: e84d669daa47
Create Date: 2026-12-01 10:00:00.000000

The token is now made with the practitioner (a column default); practitioners created
before that had none until a GET made it. The column stays nullable: making it NOT NULL
would rebuild the practitioner table on SQLite, under cascading foreign keys.
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c5e7f3b2d4'
down_revision = 'e84d669daa47'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    practitioner = sa.table('practitioner', sa.column('id', sa.Integer), sa.column('calendar_token', sa.String))
    ids = connection.execute(sa.select(practitioner.c.id).where(practitioner.c.calendar_token.is_(None))).scalars().all()
    for practitioner_id in ids:
        connection.execute(practitioner.update().where(practitioner.c.id == practitioner_id)
                           .values(calendar_token=secrets.token_urlsafe(32)))


def downgrade():
    """Nothing to undo: a practitioner with a token is what the previous revision made on first demand."""
