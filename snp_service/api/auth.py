"""POST /api/v1/auth/token: exchange email and password for an expiring bearer token."""
from datetime import timedelta

from flask import current_app, g

from .. import accounts
from ..extensions import sign_in_limit
from ..policy import require_roles
from .blueprint import Blueprint
from .schemas.auth import TokenRequestSchema, TokenResponseSchema

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Bearer tokens")


@blp.route("/token", methods=["POST"])
@sign_in_limit()
@blp.arguments(TokenRequestSchema())
@blp.response(200, TokenResponseSchema)
def issue_token(credentials):
    user = accounts.authenticate(credentials["email"], credentials["password"])
    secret, token = accounts.issue_token(user, timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]))
    return {"token": secret, "expires_at": token.expires_at, "user": user_summary(user)}


@blp.route("/token", methods=["DELETE"])
@require_roles("admin", "coordinator", "regulator", "gp")
@blp.response(204)
def revoke_token(user):
    """Revoke the bearer token of this request (log out)."""
    if g.get("api_token"):
        accounts.revoke_token(g.api_token, user)


def user_summary(user) -> dict:
    return {"id": user.id, "role": user.role, "cpts_ids": user.cpts_ids, "practitioner_id": user.practitioner_id}
