"""/api/v1/users: accounts (admin anywhere, coordinator inside their CPTS)."""

from .. import accounts
from ..errors import Forbidden
from ..policy import check_cpts, get_practitioner, require_roles
from .blueprint import Blueprint
from .schemas.users import UserSchema

URL_PREFIX = "/users"
blp = Blueprint("users", __name__, description="User accounts")


@blp.route("", methods=["POST"])
@require_roles("admin", "coordinator")
@blp.arguments(UserSchema())
@blp.response(201, UserSchema)
def create_user(data, user):
    if user.role == "coordinator":
        if data["role"] == "admin" or not data["cpts_ids"]:
            raise Forbidden("Un coordinateur crée des comptes de sa CPTS, hors administrateurs", code="forbidden_role")
        for cpts_id in data["cpts_ids"]:
            check_cpts(user, cpts_id, manage=True)
        if data["practitioner_id"] is not None:
            get_practitioner(user, data["practitioner_id"])
    return accounts.create_user(user, **data)
