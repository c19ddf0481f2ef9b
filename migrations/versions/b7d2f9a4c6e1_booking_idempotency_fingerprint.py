"""booking.idempotency_fingerprint: an Idempotency-Key reused with another request is refused

Revision ID: b7d2f9a4c6e1
Revises: a1c5e7f3b2d4
Create Date: 2026-12-01 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2f9a4c6e1'
down_revision = 'a1c5e7f3b2d4'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: the booking table is never rebuilt.
    op.add_column('booking', sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('idempotency_fingerprint')
