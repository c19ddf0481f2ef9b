"""/api/v1/slot-requests: when nothing fits, a request to the nearby practitioners; the first to accept books."""

from ..policy import REQUEST_ACCEPTERS, REQUEST_READERS, REQUESTERS, requesting_cpts, require_roles, slot_requests_scope
from ..requests import answering, reading, sending
from .blueprint import Blueprint
from .schemas.slot_requests import (SeenSchema, SlotRequestAcceptSchema, SlotRequestAcceptedSchema,
                                    SlotRequestCreateSchema, SlotRequestQuerySchema, SlotRequestSchema)

URL_PREFIX = "/slot-requests"
blp = Blueprint("slot_requests", __name__, description="Slot requests to nearby practitioners")


@blp.route("", methods=["POST"])
@require_roles(REQUESTERS)
@blp.arguments(SlotRequestCreateSchema())
@blp.response(201, SlotRequestSchema)
def create_request(data, user):
    """Send a request to the practitioners of the area who take requests, within the radius (422 no_recipient)."""
    created = sending.create(user, requesting_cpts(user), slot_requests_scope(user), data)
    return reading.sent_state(created, created.recipient_count)


@blp.route("", methods=["GET"])
@require_roles(REQUESTERS)
@blp.arguments(SlotRequestQuerySchema(), location="query")
@blp.response(200, SlotRequestSchema(many=True))
def list_requests(query, user):
    """The requests of the caller's scope, newest first."""
    return reading.listing(slot_requests_scope(user), query.get("status"))


@blp.route("/<int:request_id>", methods=["GET"])
@require_roles(REQUEST_READERS)
@blp.response(200, SlotRequestSchema)
def get_request(request_id, user):
    return reading.state(answering.load(user, request_id))


@blp.route("/<int:request_id>/accept", methods=["POST"])
@require_roles(REQUEST_ACCEPTERS)
@blp.arguments(SlotRequestAcceptSchema())
@blp.response(201, SlotRequestAcceptedSchema)
def accept_request(data, request_id, user):
    """A GP accepts for themself: their slot at ``start`` and the patient's booking, together (409 request_closed)."""
    return {"booking": answering.accept(user, request_id, data["start"])}


@blp.route("/<int:request_id>/cancel", methods=["POST"])
@require_roles(REQUESTERS)
@blp.response(200, SlotRequestSchema)
def cancel_request(request_id, user):
    return reading.state(answering.cancel(user, request_id))


@blp.route("/<int:request_id>/seen", methods=["POST"])
@require_roles(REQUEST_ACCEPTERS)
@blp.response(200, SeenSchema)
def mark_seen(request_id, user):
    """A recipient opened the request (its page posts this): the console counts it."""
    return {"first_time": answering.seen(user, request_id)}
