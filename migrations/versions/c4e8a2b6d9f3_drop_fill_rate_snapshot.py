"""drop fill_rate_snapshot: written hourly, read by nothing; reports aggregate the slots themselves

Revision ID: c4e8a2b6d9f3
Revises: b7d2f9a4c6e1
Create Date: 2026-12-01 12:00:00.000000

Offered, filled and the fill rate are defined once, in ``reporting``, and computed by SQL
aggregation over the slots within the SPEC's budgets; a second copy of the counts could only
drift from it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2b6d9f3'
down_revision = 'b7d2f9a4c6e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fill_rate_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_fill_rate_snapshot_day')
    op.drop_table('fill_rate_snapshot')


def downgrade():
    op.create_table('fill_rate_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cpts_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('offered', sa.Integer(), nullable=False),
    sa.Column('filled', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('offered >= 0 AND filled >= 0 AND filled <= offered', name=op.f('ck_fill_rate_snapshot_filled_within_offered')),
    sa.ForeignKeyConstraint(['cpts_id'], ['cpts.id'], name=op.f('fk_fill_rate_snapshot_cpts_id_cpts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_fill_rate_snapshot_practitioner_id_practitioner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fill_rate_snapshot')),
    sa.UniqueConstraint('cpts_id', 'practitioner_id', 'day', name='uq_fill_rate_snapshot')
    )
    with op.batch_alter_table('fill_rate_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_fill_rate_snapshot_day', ['day'], unique=False)
