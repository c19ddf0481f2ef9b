"""index slot(practitioner_id, start_at) of free slots: the regulator's search probe

Revision ID: 9d41c2e7a8b3
Revises: 7c3e9a1d5b20
Create Date: 2026-11-23 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d41c2e7a8b3'
down_revision = '7c3e9a1d5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_slot_free_practitioner_start', 'slot', ['practitioner_id', 'start_at'], unique=False,
                    postgresql_include=['id', 'end_at', 'mode'],
                    postgresql_where=sa.text("status = 'free'"), sqlite_where=sa.text("status = 'free'"))


def downgrade():
    op.drop_index('ix_slot_free_practitioner_start', table_name='slot')
