"""one-time password set-up links, issued by a coordinator (accounts created by the SAS have no known password)

Revision ID: e5a7c9d2b4f6
Revises: d3f6b8a1c5e2
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c9d2b4f6'
down_revision = 'd3f6b8a1c5e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_setup_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_password_setup_link_user_id_user_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_password_setup_link_created_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_setup_link')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_password_setup_link_secret_hash')),
    )
    op.create_index(op.f('ix_password_setup_link_user_id'), 'password_setup_link', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_password_setup_link_user_id'), table_name='password_setup_link')
    op.drop_table('password_setup_link')
