"""/api/v1/slots/search: the regulator's search for free slots."""

from ..policy import BOOKERS, require_roles, visible_cpts_ids
from ..slots import search
from .blueprint import Blueprint
from .schemas.search import SearchAnswerSchema, SearchQuerySchema

URL_PREFIX = "/slots"
blp = Blueprint("search", __name__, description="Slot search")


@blp.route("/search", methods=["GET"])
@require_roles(BOOKERS)
@blp.arguments(SearchQuerySchema(), location="query")
@blp.response(200, SearchAnswerSchema)
def search_slots(query, user):
    """Free slots: the treating doctor's first, then by start, then by distance; with fewer than 3, the later ones."""
    return search.search_with_later(visible_cpts_ids(user), query)
