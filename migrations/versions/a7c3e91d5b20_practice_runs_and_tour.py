"""practice_run (the practice space's scorecards) and tour_seen (the first-sign-in tour, once per account)

Issue 22.

Revision ID: a7c3e91d5b20
Revises: f2b9d4e6a8c1
Create Date: 2026-12-07 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e91d5b20'
down_revision = 'f2b9d4e6a8c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'practice_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('scenario', sa.String(length=40), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('navigation_keys', sa.Integer(), nullable=False),
        sa.Column('typed_chars', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_practice_run_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_run')),
    )
    op.create_index('ix_practice_run_user_at', 'practice_run', ['user_id', 'at'], unique=False)
    op.create_table(
        'tour_seen',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_tour_seen_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_tour_seen')),
    )


def downgrade():
    op.drop_table('tour_seen')
    op.drop_index('ix_practice_run_user_at', table_name='practice_run')
    op.drop_table('practice_run')
