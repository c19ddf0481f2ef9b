"""/api/v1/slots: publish, list, withdraw and import SNP slots (GP, coordinator)."""
from datetime import timedelta

from flask import current_app, request
from werkzeug.exceptions import UnsupportedMediaType

from ..core.errors import Invalid
from ..core.timeutil import paris_day_bounds, paris_today
from ..policy import PUBLISHERS, acting_practitioner, require_roles
from ..slots import calendar_import, publishing
from .blueprint import Blueprint
from .schemas.slots import (
    ImportQuerySchema, ImportResultSchema, PublishedSchema, PublishSchema, SlotQuerySchema, SlotSchema,
)

URL_PREFIX = "/slots"
blp = Blueprint("slots", __name__, description="SNP slots")

ICS_CONTENT_TYPES = {"text/calendar", "text/plain", "application/octet-stream"}
MAX_LIST_DAYS = 400


@blp.route("", methods=["POST"])
@require_roles(PUBLISHERS)
@blp.arguments(PublishSchema())
@blp.response(201, PublishedSchema)
def publish_slots(data, user):
    practitioner = acting_practitioner(user, data.get("practitioner_id"))
    if data["on_conflict"] == "skip":
        slots, skipped = publishing.publish_around(user, practitioner, data)
        return _published(slots) | {"skipped_days": skipped}
    return _published(publishing.publish_request(user, practitioner, data))


@blp.route("", methods=["GET"])
@require_roles(PUBLISHERS)
@blp.arguments(SlotQuerySchema(), location="query")
@blp.response(200, SlotSchema(many=True))
def list_slots(query, user):
    practitioner = acting_practitioner(user, query.get("practitioner_id"))
    start = query.get("from_") or paris_day_bounds(paris_today())[0]
    end = query.get("to") or start + timedelta(days=current_app.config["PUBLISH_HORIZON_DAYS"] + 1)
    if not timedelta(0) < end - start <= timedelta(days=MAX_LIST_DAYS):
        raise Invalid(f"La période doit être positive et d'au plus {MAX_LIST_DAYS} jours",
                      fields={"to": [f"must be after from, at most {MAX_LIST_DAYS} days later"]})
    return publishing.list_slots(practitioner.id, start, end, query.get("status"))


@blp.route("/<int:slot_id>", methods=["DELETE"])
@require_roles(PUBLISHERS)
@blp.response(200, SlotSchema)
def withdraw_slot(slot_id, user):
    return publishing.withdraw(user, slot_id)


@blp.route("/import", methods=["POST"])
@blp.doc(requestBody={"required": True, "description": "an iCalendar (.ics) file",
                      "content": {"text/calendar": {"schema": {"type": "string",
                                                               "maxLength": calendar_import.MAX_ICS_BYTES}}}})
@require_roles(PUBLISHERS)
@blp.arguments(ImportQuerySchema(), location="query")
@blp.response(201, ImportResultSchema)
def import_calendar(query, user):
    if request.mimetype not in ICS_CONTENT_TYPES:
        raise UnsupportedMediaType("Envoyez le fichier .ics avec Content-Type: text/calendar")
    practitioner = acting_practitioner(user, query.get("practitioner_id"))
    return calendar_import.import_calendar(user, practitioner, request.get_data(cache=False), query["slot_minutes"],
                                           query["mode"])


def _published(slots: list) -> dict:
    answer = {"count": len(slots), "slots": slots}
    if len(slots) == 1:
        # SPEC: publishing one slot answers the slot itself (count and slots kept for uniform clients).
        slot = slots[0]
        answer |= {"id": slot.id, "practitioner_id": slot.practitioner_id, "start_at": slot.start_at,
                   "end_at": slot.end_at, "mode": slot.mode, "status": slot.status}
    return answer
