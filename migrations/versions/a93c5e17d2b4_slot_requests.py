"""Slot requests ("demandes de créneau"): the request, its recipients, the practitioners' opt-in, their SMS kind

Issue 23. ``slot_request`` and ``slot_request_recipient`` are new; ``practitioner.takes_requests`` (off by
default) is a plain ADD COLUMN; ``outbox_message``'s kind check gains ``gp_slot_request`` and
``indicator_value``'s code check the four request indicators (SQLite rebuilds each table for a changed check, as
Alembic's batch mode does; nothing references either table).

Revision ID: a93c5e17d2b4
Revises: 2939b3bdef46
Create Date: 2026-12-07 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a93c5e17d2b4'
down_revision = '2939b3bdef46'
branch_labels = None
depends_on = None

OLD_KINDS = ('patient_confirmation', 'patient_reminder', 'patient_cancellation', 'patient_move',
             'gp_new_booking', 'gp_cancellation', 'gp_move')
NEW_KINDS = OLD_KINDS + ('gp_slot_request',)
OLD_CODES = ('participating_practitioners', 'offered_slots', 'avg_offered_per_day', 'fill_rate', 'bookings_by_channel',
             'share_without_treating_doctor', 'no_show_rate', 'regulated_acts', 'supplement_cents')
NEW_CODES = OLD_CODES + ('requests_sent', 'requests_accepted', 'requests_expired', 'median_minutes_to_accept')


def _kinds(kinds) -> str:
    return f"kind IN {kinds}"


def upgrade():
    op.add_column('practitioner', sa.Column('takes_requests', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'slot_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('cpts_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('notify_patient', sa.Boolean(), nullable=False),
        sa.Column('profession', sa.String(length=20), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('radius_km', sa.Float(), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('accepted_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'accepted', 'cancelled', 'expired')", name=op.f('ck_slot_request_status_known')),
        sa.CheckConstraint("profession IN ('gp', 'nurse', 'physiotherapist', 'pharmacist', 'midwife')",
                           name=op.f('ck_slot_request_profession_known')),
        sa.CheckConstraint("mode IN ('office', 'teleconsultation', 'home_visit')", name=op.f('ck_slot_request_mode_known')),
        sa.CheckConstraint("channel IN ('116117', 'sas', '15', 'other')", name=op.f('ck_slot_request_channel_known')),
        sa.CheckConstraint('not_after > not_before', name=op.f('ck_slot_request_window_ordered')),
        sa.CheckConstraint('radius_km > 0 AND radius_km <= 100', name=op.f('ck_slot_request_radius_bounded')),
        sa.CheckConstraint("booking_id IS NULL OR status = 'accepted'", name=op.f('ck_slot_request_booking_only_if_accepted')),
        sa.ForeignKeyConstraint(['accepted_by_id'], ['practitioner.id'], name=op.f('fk_slot_request_accepted_by_id_practitioner'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_slot_request_booking_id_booking'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['cpts_id'], ['cpts.id'], name=op.f('fk_slot_request_cpts_id_cpts')),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_slot_request_patient_id_patient'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_slot_request_requested_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_request')),
    )
    op.create_index('uq_slot_request_booking', 'slot_request', ['booking_id'], unique=True)
    op.create_index('ix_slot_request_status_expires', 'slot_request', ['status', 'expires_at'], unique=False)
    op.create_index('ix_slot_request_cpts_created', 'slot_request', ['cpts_id', 'created_at'], unique=False)
    op.create_table(
        'slot_request_recipient',
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=False),
        sa.Column('distance_km', sa.Float(), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_slot_request_recipient_practitioner_id_practitioner'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['slot_request.id'], name=op.f('fk_slot_request_recipient_request_id_slot_request'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('request_id', 'practitioner_id', name=op.f('pk_slot_request_recipient')),
    )
    op.create_index(op.f('ix_slot_request_recipient_practitioner_id'), 'slot_request_recipient', ['practitioner_id'], unique=False)
    _outbox_kinds(NEW_KINDS)
    _indicator_codes(NEW_CODES)


def downgrade():
    op.execute(f"DELETE FROM indicator_value WHERE code NOT IN {OLD_CODES}")
    _indicator_codes(OLD_CODES)
    op.execute("DELETE FROM outbox_message WHERE kind = 'gp_slot_request'")
    _outbox_kinds(OLD_KINDS)
    op.drop_index(op.f('ix_slot_request_recipient_practitioner_id'), table_name='slot_request_recipient')
    op.drop_table('slot_request_recipient')
    op.drop_index('ix_slot_request_cpts_created', table_name='slot_request')
    op.drop_index('ix_slot_request_status_expires', table_name='slot_request')
    op.drop_index('uq_slot_request_booking', table_name='slot_request')
    op.drop_table('slot_request')
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_column('takes_requests')


def _outbox_kinds(kinds) -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_message_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_message_kind_known'), _kinds(kinds))


def _indicator_codes(codes) -> None:
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_indicator_value_code_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_indicator_value_code_known'), f"code IN {codes}")
