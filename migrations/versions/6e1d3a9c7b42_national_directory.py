"""the national directory (RPPS "PS_LibreAcces" extract) and its loads

Revision ID: 6e1d3a9c7b42
Revises: a7c3e91d5b20
Create Date: 2026-12-07 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e1d3a9c7b42'
down_revision = 'a7c3e91d5b20'
branch_labels = None
depends_on = None

NAME_KEY = sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql')


def upgrade():
    op.create_table(
        'directory_load',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('departements', sa.JSON(), nullable=False),
        sa.Column('lines_read', sa.Integer(), nullable=False),
        sa.Column('rows_kept', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('loading', 'current', 'replaced', 'failed')",
                           name=op.f('ck_directory_load_status_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_load')),
    )
    op.create_index(op.f('ix_directory_load_status'), 'directory_load', ['status'], unique=False)
    op.create_table(
        'directory',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('rpps', sa.String(length=11), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name_key', NAME_KEY, nullable=False),
        sa.Column('first_name_key', NAME_KEY, nullable=False),
        sa.Column('later_name_key', NAME_KEY, nullable=False),
        sa.Column('profession_code', sa.String(length=2), nullable=False),
        sa.Column('specialty_code', sa.String(length=10), nullable=True),
        sa.Column('specialty_label', sa.String(length=150), nullable=True),
        sa.Column('practice_siret', sa.String(length=14), nullable=True),
        sa.Column('practice_finess', sa.String(length=9), nullable=True),
        sa.Column('address', sa.String(length=300), nullable=True),
        sa.Column('postal_code', sa.String(length=5), nullable=True),
        sa.Column('commune_insee', sa.String(length=5), nullable=True),
        sa.Column('commune_name', sa.String(length=100), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('departement', sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory')),
    )
    op.create_index('ix_directory_generation_rpps', 'directory', ['generation', 'rpps'], unique=False)
    op.create_index('ix_directory_generation_last_key', 'directory', ['generation', 'last_name_key'], unique=False)
    op.create_index('ix_directory_generation_first_key', 'directory', ['generation', 'first_name_key'], unique=False)
    op.create_index('ix_directory_generation_later_key', 'directory', ['generation', 'later_name_key'], unique=False)
    op.create_index('ix_directory_generation_commune', 'directory', ['generation', 'commune_insee'], unique=False)


def downgrade():
    op.drop_index('ix_directory_generation_commune', table_name='directory')
    op.drop_index('ix_directory_generation_later_key', table_name='directory')
    op.drop_index('ix_directory_generation_first_key', table_name='directory')
    op.drop_index('ix_directory_generation_last_key', table_name='directory')
    op.drop_index('ix_directory_generation_rpps', table_name='directory')
    op.drop_table('directory')
    op.drop_index(op.f('ix_directory_load_status'), table_name='directory_load')
    op.drop_table('directory_load')
