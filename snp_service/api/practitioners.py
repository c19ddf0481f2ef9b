"""/api/v1/practitioners: the members of a CPTS."""

from ..cpts import practitioners
from ..policy import (
    BOOKERS, COORDINATION, PRACTITIONER_READERS, PUBLISHERS, check_cpts, get_practitioner, listing_scope,
    practitioner_lookup_scope, require_roles,
)
from ..slots import calendar_feed
from .blueprint import Blueprint
from .schemas.practitioner_lookup import LookupAnswerSchema, LookupQuerySchema
from .schemas.practitioners import PractitionerCreateSchema, PractitionerQuerySchema, PractitionerSchema, PractitionerWithCalendarSchema

URL_PREFIX = "/practitioners"
blp = Blueprint("practitioners", __name__, description="Practitioners")


@blp.route("", methods=["POST"])
@require_roles(COORDINATION)
@blp.arguments(PractitionerCreateSchema())
@blp.response(201, PractitionerSchema)
def create_practitioner(data, user):
    """A member: every field, or ``{directory_rpps, cpts_ids}`` (and any field to change) from the national directory."""
    for cpts_id in data["cpts_ids"]:
        check_cpts(user, cpts_id, manage=True)
    if "directory_rpps" in data:
        return practitioners.create_from_directory(user, data)
    return practitioners.create_practitioner(user, data)


@blp.route("", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(PractitionerQuerySchema(), location="query")
@blp.response(200, PractitionerSchema(many=True))
def list_practitioners(query, user):
    return practitioners.list_practitioners(listing_scope(user, query.get("cpts_id")))


@blp.route("/<int:practitioner_id>", methods=["GET"])
@require_roles(PRACTITIONER_READERS)
@blp.response(200, PractitionerWithCalendarSchema)
def get_one(practitioner_id, user):
    return calendar_feed.practitioner_card(user, get_practitioner(user, practitioner_id))


@blp.route("/<int:practitioner_id>/calendar-token", methods=["POST"])
@require_roles(PUBLISHERS)
@blp.response(200, PractitionerWithCalendarSchema)
def rotate_calendar_token(practitioner_id, user):
    return calendar_feed.rotate_token(user, get_practitioner(user, practitioner_id, manage=True))


@blp.route("/lookup", methods=["GET"])
@require_roles(BOOKERS)
@blp.arguments(LookupQuerySchema(), location="query")
@blp.response(200, LookupAnswerSchema)
def lookup(query, user):
    """A few practitioners of the caller's area found by name or RPPS start (the treating-doctor field)."""
    return {"results": practitioners.lookup_practitioners(practitioner_lookup_scope(user), query["q"], query["limit"])}
