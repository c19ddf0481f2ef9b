"""the known device of a failed sign-in attempt (OWASP device cookies): a lockout locks unknown devices only

Revision ID: a7d2e9c4b1f8
Revises: e5a7c9d2b4f6
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d2e9c4b1f8'
down_revision = 'e5a7c9d2b4f6'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sign_in_attempt', sa.Column('device', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('sign_in_attempt') as batch_op:
        batch_op.drop_column('device')
