"""/api/v1/bookings: book, cancel, move, record outcomes."""
from flask import request

from ..bookings import booking
from ..core.errors import Invalid
from ..policy import BOOKERS, EVERY_ROLE, OUTCOME_RECORDERS, require_roles
from .blueprint import Blueprint
from .schemas.bookings import (BookingQuerySchema, BookingRequestSchema, BookingSchema, CancelRequestSchema,
                               MoveRequestSchema, OutcomeRequestSchema)

URL_PREFIX = "/bookings"
blp = Blueprint("bookings", __name__, description="Bookings")
MAX_IDEMPOTENCY_KEY = 100


@blp.route("", methods=["POST"])
@require_roles(BOOKERS)
@blp.arguments(BookingRequestSchema())
@blp.response(201, BookingSchema)
@blp.alt_response(200, schema=BookingSchema, description="Replay of an earlier request with the same Idempotency-Key")
def create_booking(data, user):
    created, is_new = booking.book(user, data, idempotency_key=_idempotency_key())
    return created, 201 if is_new else 200


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Invalid("En-tête Idempotency-Key trop long", fields={"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY} characters"]})
    return key or None


@blp.route("", methods=["GET"])
@require_roles(EVERY_ROLE)
@blp.arguments(BookingQuerySchema(), location="query")
@blp.response(200, BookingSchema(many=True))
def list_bookings(query, user):
    return booking.list_bookings(user, query.get("from"), query.get("to"), query.get("practitioner_id"),
                                 query.get("status"))


@blp.route("/<int:booking_id>", methods=["GET"])
@require_roles(EVERY_ROLE)
@blp.response(200, BookingSchema)
def get_booking(booking_id, user):
    return booking.get_booking(user, booking_id)


@blp.route("/<int:booking_id>/cancel", methods=["POST"])
@require_roles(EVERY_ROLE)
@blp.arguments(CancelRequestSchema())
@blp.response(200, BookingSchema)
def cancel_booking(data, booking_id, user):
    return booking.cancel(user, booking_id, data["by"], data["reason"])


@blp.route("/<int:booking_id>/move", methods=["POST"])
@require_roles(BOOKERS)
@blp.arguments(MoveRequestSchema())
@blp.response(201, BookingSchema)
def move_booking(data, booking_id, user):
    return booking.move(user, booking_id, data["slot_id"], data["notify_patient"])


@blp.route("/<int:booking_id>/outcome", methods=["POST"])
@require_roles(OUTCOME_RECORDERS)
@blp.arguments(OutcomeRequestSchema())
@blp.response(200, BookingSchema)
def record_outcome(data, booking_id, user):
    return booking.record_outcome(user, booking_id, data["outcome"])
