"""page sessions on the server and sign-in attempts counted in the database (issue 15, items 5 and 6)

Revision ID: c81f4e2a9d17
Revises: c4e8a2b6d9f3
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c81f4e2a9d17'
down_revision = 'c4e8a2b6d9f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'page_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_page_session_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_session')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_page_session_secret_hash')),
    )
    op.create_index(op.f('ix_page_session_user_id'), 'page_session', ['user_id'], unique=False)
    op.create_table(
        'sign_in_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempt')),
    )
    op.create_index('ix_sign_in_attempt_account_at', 'sign_in_attempt', ['account_key', 'at'], unique=False)
    op.create_index('ix_sign_in_attempt_address_at', 'sign_in_attempt', ['address', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_sign_in_attempt_address_at', table_name='sign_in_attempt')
    op.drop_index('ix_sign_in_attempt_account_at', table_name='sign_in_attempt')
    op.drop_table('sign_in_attempt')
    op.drop_index(op.f('ix_page_session_user_id'), table_name='page_session')
    op.drop_table('page_session')
