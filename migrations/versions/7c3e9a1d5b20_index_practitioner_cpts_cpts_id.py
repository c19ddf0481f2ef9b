"""index practitioner_cpts(cpts_id): the practitioners of a scope

Revision ID: 7c3e9a1d5b20
Revises: 0faab8e1fd51
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c3e9a1d5b20'
down_revision = '0faab8e1fd51'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practitioner_cpts', schema=None) as batch_op:
        batch_op.create_index('ix_practitioner_cpts_cpts_id', ['cpts_id'], unique=False)


def downgrade():
    with op.batch_alter_table('practitioner_cpts', schema=None) as batch_op:
        batch_op.drop_index('ix_practitioner_cpts_cpts_id')
