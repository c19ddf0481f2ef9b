"""Bearer tokens of the API: random secrets of which only a SHA-256 is stored, with an expiry and a revocation time.

``user_for_token`` runs on every API request: one query, which also brings the ids the scope checks read.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased

from .. import audit, policy
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.fast_paths import as_loaded, execute_core
from ..core.timeutil import utcnow
from ..models import ApiToken, Cpts, User, user_cpts


def secret_hash(secret: str) -> str:
    """What is stored of a secret (a bearer token, a set-up link): its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, ttl: timedelta) -> tuple[str, ApiToken]:
    secret = secrets.token_urlsafe(32)
    with write_transaction():
        token = ApiToken(user_id=user.id, token_hash=secret_hash(secret), expires_at=utcnow() + ttl)
        db.session.add(token)
        audit.record(user, "token.issue", token)
    return secret, token


def user_for_token(secret: str) -> User | None:
    """The active user of a live (known, unrevoked, unexpired) token, or None.

    One query on every API request: the user comes with the ids the scope checks read
    (the CPTS the account was given, and the CPTS sharing a regulation area with those),
    kept by ``policy`` for the rest of the request. A linked practitioner's CPTS give no scope.
    """
    rows = execute_core(_user_for_token_statement(), {"token_hash": secret_hash(secret), "now": utcnow()}).all()
    if not rows:
        return None
    user = as_loaded(User, dict(zip(_USER_KEYS, rows[0])))
    member = {row.own_cpts_id for row in rows if row.own_cpts_id}
    policy.remember_scope(user, member, {row.area_cpts_id for row in rows if row.area_cpts_id})
    return user


_USER_KEYS = tuple(column.key for column in User.__table__.columns)


@cache
def _user_for_token_statement():
    # Built once with bind parameters: composing the statement costs more than running it. Plain
    # columns, not the mapped class: the ORM's loading cost more than the query (every API request runs
    # it). The CPTS come as plain ids, one row per combination.
    users = User.__table__
    user_cpts_row, own_cpts = aliased(user_cpts), aliased(Cpts)
    area_cpts = aliased(Cpts)
    return (
        select(*users.columns, own_cpts.id.label("own_cpts_id"), area_cpts.id.label("area_cpts_id"))
        .join(ApiToken, ApiToken.user_id == users.c.id)
        .outerjoin(user_cpts_row, user_cpts_row.c.user_id == users.c.id)
        .outerjoin(own_cpts, own_cpts.id == user_cpts_row.c.cpts_id)
        # An empty area name is no area (as in policy): '' = '' must not join unrelated CPTS.
        .outerjoin(area_cpts, and_(area_cpts.regulation_area != "", area_cpts.regulation_area == own_cpts.regulation_area))
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > bindparam("now", type_=ApiToken.expires_at.type), users.c.active.is_(True))
    )


def revoke_token(secret: str, actor: User) -> None:
    with write_transaction():
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_hash(secret)))
        if token is None or token.revoked_at is not None:
            return
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", token)


