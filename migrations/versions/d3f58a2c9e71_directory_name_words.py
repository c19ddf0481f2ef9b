"""the directory's name words: any word of a compound name found through an index

Revision ID: d3f58a2c9e71
Revises: c7a41e93b5d2
Create Date: 2026-12-07 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3f58a2c9e71'
down_revision = 'c7a41e93b5d2'
branch_labels = None
depends_on = None

NAME_KEY = sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql')


def upgrade():
    # Empty until the next ``snp directory load``: the current load's compound names are found as before
    # (by their first two words) until then.
    op.create_table(
        'directory_name_word',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('word_key', NAME_KEY, nullable=False),
        sa.Column('rpps', sa.String(length=11), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_name_word')),
    )
    op.create_index('ix_directory_name_word_generation_word', 'directory_name_word', ['generation', 'word_key'],
                    unique=False)


def downgrade():
    op.drop_index('ix_directory_name_word_generation_word', table_name='directory_name_word')
    op.drop_table('directory_name_word')
