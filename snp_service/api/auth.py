"""POST /api/v1/auth/token: exchange email and password for an expiring bearer token."""
from datetime import timedelta

from flask import current_app, g, request

from ..accounts import known_devices, second_factor, sign_in, tokens
from ..policy import EVERY_ROLE, require_roles
from .blueprint import Blueprint
from .errors import error_response
from .openapi import documented_errors
from .schemas.auth import TokenRequestSchema, TokenResponseSchema

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Bearer tokens")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema())
@blp.response(200, TokenResponseSchema)
@documented_errors(401, 429)  # wrong credentials or second factor; too many attempts (Retry-After)
def issue_token(credentials):
    """Exchange e-mail and password for a bearer token, and a device token to present next time.

    Too many failed attempts answer 429 with `Retry-After`, whether or not the account exists: per
    account from unknown devices, per device for a client presenting its `device_token`, and per client
    address. A client with a valid `device_token` is not locked out by attempts made elsewhere.

    An account with a second factor gives `otp` (its app's code, or a recovery code): without it the answer
    is 401 `second_factor_required` (not counted as a failed attempt); a wrong one is 401 `invalid_credentials`.
    Where a second factor is required (production), an account without one enrols on the site first."""
    try:
        user = sign_in.sign_in(credentials["email"], credentials["password"], request.remote_addr,
                               credentials.get("device_token"),
                               then=lambda user: second_factor.check_for_token(user, credentials.get("otp")))
    except sign_in.TooManyAttempts as refused:
        body, status = error_response(refused.status, refused.code, refused.message)
        body.headers["Retry-After"] = str(refused.retry_after)
        return body, status
    secret, token = tokens.issue_token(user, timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]))
    return {"token": secret, "expires_at": token.expires_at, "user": user_summary(user),
            "device_token": known_devices.issue(user.id)}


@blp.route("/token", methods=["DELETE"])
@require_roles(EVERY_ROLE)
@blp.response(204)
def revoke_token(user):
    """Revoke the bearer token of this request (log out)."""
    if g.get("api_token"):
        tokens.revoke_token(g.api_token, user)


def user_summary(user) -> dict:
    return {"id": user.id, "role": user.role, "cpts_ids": user.cpts_ids, "practitioner_id": user.practitioner_id}
