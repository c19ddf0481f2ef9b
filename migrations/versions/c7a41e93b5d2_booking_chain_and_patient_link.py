"""A booking's whole life: the chain of moves, the patient's confirmation and the patient's own link

Issue 24. ``booking.replaces_booking_id`` links a moved booking to the one it replaces and
``booking.first_booked_at`` keeps when the chain's first booking was made (the supplement's 48-hour rule
counts from then); ``booking.confirmed_at`` is the patient's confirmation from their link;
``patient_link`` holds the SHA-256 of each link's secret. The indicators gain the patients' own figures
(``patient_cancellations``, ``confirmed_share``, ``no_show_rate_confirmed``, ``no_show_rate_unconfirmed``):
``indicator_value``'s check of known codes is widened (a small table, rebuilt on SQLite). Plain ADD COLUMNs: the booking table is never
rebuilt, and the rows of earlier versions read as first bookings. Bookings are never deleted, so the
chain's foreign key needs no ON DELETE.

Revision ID: c7a41e93b5d2
Revises: a93c5e17d2b4
Create Date: 2026-12-07 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a41e93b5d2'
down_revision = 'a93c5e17d2b4'
branch_labels = None
depends_on = None


OLD_CODES = ('participating_practitioners', 'offered_slots', 'avg_offered_per_day', 'fill_rate', 'bookings_by_channel',
             'share_without_treating_doctor', 'no_show_rate', 'regulated_acts', 'supplement_cents',
             'requests_sent', 'requests_accepted', 'requests_expired', 'median_minutes_to_accept')  # a93c5e17d2b4's
NEW_CODES = OLD_CODES + ('patient_cancellations', 'confirmed_share', 'no_show_rate_confirmed', 'no_show_rate_unconfirmed')


def _indicator_codes(codes):
    with op.batch_alter_table('indicator_value', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_indicator_value_code_known'), type_='check')
        batch_op.create_check_constraint('code_known', f"code IN {codes}")


def upgrade():
    _indicator_codes(NEW_CODES)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes the foreign key only inline (Alembic would rebuild the table for it).
        op.execute("ALTER TABLE booking ADD COLUMN replaces_booking_id INTEGER "
                   "CONSTRAINT fk_booking_replaces_booking_id_booking REFERENCES booking (id)")
    else:
        op.add_column('booking', sa.Column('replaces_booking_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_booking_replaces_booking_id_booking'), 'booking', 'booking',
                              ['replaces_booking_id'], ['id'])
    op.add_column('booking', sa.Column('first_booked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('booking', sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'patient_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_patient_link_booking_id_booking'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_link')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_patient_link_secret_hash')),
    )
    op.create_index(op.f('ix_patient_link_booking_id'), 'patient_link', ['booking_id'], unique=False)


def downgrade():
    op.execute(f"DELETE FROM indicator_value WHERE code NOT IN {OLD_CODES}")
    _indicator_codes(OLD_CODES)
    op.drop_index(op.f('ix_patient_link_booking_id'), table_name='patient_link')
    op.drop_table('patient_link')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('first_booked_at')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('booking', schema=None) as batch_op:
            batch_op.drop_column('replaces_booking_id')
    else:
        op.drop_constraint(op.f('fk_booking_replaces_booking_id_booking'), 'booking', type_='foreignkey')
        op.drop_column('booking', 'replaces_booking_id')
