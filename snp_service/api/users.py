"""/api/v1/users: accounts (admin anywhere, coordinator inside their CPTS)."""

from ..accounts import users
from ..policy import COORDINATION, require_roles
from .blueprint import Blueprint
from .schemas.users import UserSchema

URL_PREFIX = "/users"
blp = Blueprint("users", __name__, description="User accounts")


@blp.route("", methods=["POST"])
@require_roles(COORDINATION)
@blp.arguments(UserSchema())
@blp.response(201, UserSchema)
def create_user(data, user):
    return users.create_user(user, **data)
