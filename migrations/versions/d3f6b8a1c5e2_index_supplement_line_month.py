"""index supplement_line(month): the nightly re-evaluation reads the open weeks' lines, not the whole ledger

Revision ID: d3f6b8a1c5e2
Revises: c81f4e2a9d17
Create Date: 2026-12-01 14:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd3f6b8a1c5e2'
down_revision = 'c81f4e2a9d17'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supplement_line', schema=None) as batch_op:
        batch_op.create_index('ix_supplement_line_month', ['month'], unique=False)


def downgrade():
    with op.batch_alter_table('supplement_line', schema=None) as batch_op:
        batch_op.drop_index('ix_supplement_line_month')
