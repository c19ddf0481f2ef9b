"""/api/v1/imports: history import of past seasons (SPEC's CSV format, all or nothing)."""
from flask import current_app, request
from werkzeug.exceptions import UnsupportedMediaType

from ..policy import COORDINATION, check_cpts, require_roles
from ..reporting import history_import
from .blueprint import Blueprint
from .schemas.imports import HistoryImportQuerySchema, HistoryImportResultSchema

URL_PREFIX = "/imports"
blp = Blueprint("imports", __name__, description="History import")


@blp.route("/history", methods=["POST"])
@blp.doc(requestBody={"required": True, "description": "the CSV of SPEC section 4 (UTF-8, comma)",
                      "content": {"text/csv": {"schema": {"type": "string"}}}})
@require_roles(COORDINATION)
@blp.arguments(HistoryImportQuerySchema(), location="query")
@blp.response(201, HistoryImportResultSchema)
def import_history(args, user):
    """A text/csv body, header ``rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,
    patient_has_treating_doctor``; any bad row rejects the file (422 with ``lines: [{line, errors}]``)."""
    check_cpts(user, args["cpts_id"], manage=True)
    if request.mimetype != "text/csv":
        raise UnsupportedMediaType("Content-Type must be text/csv")
    # Larger than any other body: the documented 50,000 rows do not fit in MAX_CONTENT_LENGTH.
    request.max_content_length = current_app.config["HISTORY_IMPORT_MAX_CONTENT_LENGTH"]
    return history_import.import_history(user, args["cpts_id"], request.get_data())
