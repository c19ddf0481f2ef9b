"""POST /notify/twilio/status: Twilio delivery status callbacks, signature-checked."""
from flask import Blueprint, current_app, request
from twilio.request_validator import RequestValidator

from ..core.errors import Forbidden
from ..notify import outbox

bp = Blueprint("twilio_status", __name__)


@bp.post(outbox.STATUS_CALLBACK_PATH)
def status_callback():
    _check_signature()
    outbox_id = request.args.get("outbox_id", type=int)
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if sid and status:
        outbox.record_provider_status(sid, status, outbox_id=outbox_id, error_code=request.form.get("ErrorCode"))
    return "", 204


def _check_signature() -> None:
    """Twilio signs the URL it called: rebuild it from PUBLIC_URL, since a reverse proxy hides the real one."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    if not token or not signature or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        raise Forbidden("Signature Twilio invalide", code="invalid_signature")
