"""e-mails NFKC case-folded, and no two accounts whose addresses look alike (UTS #39 skeleton)

Revision ID: b3e8f1a6c2d9
Revises: a7d2e9c4b1f8
Create Date: 2026-12-07 10:00:00.000000

Existing addresses are rewritten in the form sign-in now looks them up in (NFKC, case-folded: the
same for every ASCII address), so every account keeps signing in. When two existing accounts already
look alike, the older one keeps the skeleton and the other none (the constraint allows it): nothing is
refused or lost here, and an administrator can rename it.
"""
import hashlib
import unicodedata

from alembic import op
import sqlalchemy as sa

from snp_service.data.confusables import skeleton


# revision identifiers, used by Alembic.
revision = 'b3e8f1a6c2d9'
down_revision = 'a7d2e9c4b1f8'
branch_labels = None
depends_on = None


def _normalised(email):
    # accounts.normalise_email as of this revision.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('email_skeleton', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('email_skeleton', sa.String))
    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    emails, skeletons = {email for _id, email in rows}, set()
    for user_id, email in rows:
        values = {}
        normalised = _normalised(email)
        if normalised != email and normalised not in emails:
            values['email'], email = normalised, normalised
            emails.add(normalised)
        digest = hashlib.sha256(skeleton(email).encode()).hexdigest()
        if digest not in skeletons:
            values['email_skeleton'] = digest
            skeletons.add(digest)
        if values:
            connection.execute(users.update().where(users.c.id == user_id).values(**values))
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.create_unique_constraint(op.f('uq_user_account_email_skeleton'), ['email_skeleton'])


def downgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_constraint(op.f('uq_user_account_email_skeleton'), type_='unique')
        batch_op.drop_column('email_skeleton')
