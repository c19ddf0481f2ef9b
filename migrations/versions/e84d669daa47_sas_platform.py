"""SAS platform: FINESS, practice ids, participation, postal codes, slot updated_at, regulator ids, appointments outbox

Slot columns are added with plain ALTER TABLE (no batch table copy): on SQLite a copy would drop the
overlap triggers. ``slot.updated_at`` starts as the row's creation time.

Revision ID: e84d669daa47
Revises: 9d41c2e7a8b3
Create Date: 2026-12-01 09:19:33.385927

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e84d669daa47'
down_revision = '9d41c2e7a8b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sas_regulator_identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=200), nullable=False),
    sa.Column('value', sa.String(length=100), nullable=False),
    sa.Column('type_code', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sas_regulator_identifier_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sas_regulator_identifier')),
    sa.UniqueConstraint('system', 'value', name=op.f('uq_sas_regulator_identifier_system_value'))
    )
    with op.batch_alter_table('sas_regulator_identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sas_regulator_identifier_user_id'), ['user_id'], unique=False)

    op.create_table('sas_appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=36), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_sas_appointment_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_sas_appointment_practitioner_id_practitioner'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sas_appointment')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_sas_appointment_booking_id')),
    sa.UniqueConstraint('identifier', name=op.f('uq_sas_appointment_identifier'))
    )
    with op.batch_alter_table('sas_appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sas_appointment_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('sas_push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=4), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("event IN ('booked', 'cancelled', 'honored', 'no_show', 'moved')", name=op.f('ck_sas_push_event_known')),
    sa.CheckConstraint("method IN ('POST', 'PUT')", name=op.f('ck_sas_push_method_known')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_sas_push_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_sas_push_attempts_positive')),
    sa.ForeignKeyConstraint(['appointment_id'], ['sas_appointment.id'], name=op.f('fk_sas_push_appointment_id_sas_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sas_push'))
    )
    with op.batch_alter_table('sas_push', schema=None) as batch_op:
        batch_op.create_index('ix_sas_push_appointment_id', ['appointment_id', 'id'], unique=False)
        batch_op.create_index('ix_sas_push_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_sas_push_status_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_code', sa.String(length=5), nullable=True))

    with op.batch_alter_table('cpts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finess', sa.String(length=9), nullable=True))

    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_code', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('practice_finess', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('practice_siret', sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column('sas_participation', sa.Boolean(), server_default=sa.false(), nullable=False))

    # NOT NULL needs a default for the existing rows; they then take their creation time.
    op.add_column('slot', sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False,
                                    server_default=sa.text("'1970-01-01 00:00:00'")))
    op.execute("UPDATE slot SET updated_at = created_at")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('slot', 'updated_at', server_default=None)



def downgrade():
    op.drop_column('slot', 'updated_at')

    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_column('sas_participation')
        batch_op.drop_column('practice_siret')
        batch_op.drop_column('practice_finess')
        batch_op.drop_column('postal_code')

    with op.batch_alter_table('cpts', schema=None) as batch_op:
        batch_op.drop_column('finess')

    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.drop_column('postal_code')

    with op.batch_alter_table('sas_push', schema=None) as batch_op:
        batch_op.drop_index('ix_sas_push_status_due')
        batch_op.drop_index('ix_sas_push_created_at')
        batch_op.drop_index('ix_sas_push_appointment_id')

    op.drop_table('sas_push')
    with op.batch_alter_table('sas_appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sas_appointment_practitioner_id'))

    op.drop_table('sas_appointment')
    with op.batch_alter_table('sas_regulator_identifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sas_regulator_identifier_user_id'))

    op.drop_table('sas_regulator_identifier')
