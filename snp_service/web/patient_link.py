"""/r/<secret>: the patient's own page for their booking (``bookings.patient_link``), opened from an SMS.

No sign-in: the secret in the URL is the credential. The page shows the appointment and nothing of the
patient; it is rate-limited per client address (``RATELIMIT_PATIENT_LINK_PER_ADDRESS``). A wrong, expired
or used link gets one French 404 that says nothing more. The secret never leaves in a referrer, is never
cached, and is masked in every log (``core/secret_masking.py``).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ..bookings import patient_link
from ..core import rate_limit
from ..core.errors import Conflict, NotFound

bp = Blueprint("patient_link", __name__, url_prefix="/r")

_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.before_request
def _limit_per_address():
    retry_after = rate_limit.hit("RATELIMIT_PATIENT_LINK_PER_ADDRESS", request.remote_addr or "unknown")
    if retry_after:
        return (render_template("patient_link/refused.html", status=429),
                429, {**_HEADERS, "Retry-After": str(retry_after)})
    return None


@bp.after_request
def _private(response):
    response.headers.update(_HEADERS)
    return response


@bp.get("/<token>")
def show(token):
    return _page(lambda: patient_link.view(token), token)


@bp.get("/<token>/annuler")
def confirm_cancel(token):
    """The confirmation step before cancelling: nothing is changed by a GET."""
    return _page(lambda: patient_link.view(token), token, template="patient_link/cancel.html")


@bp.post("/<token>/annuler")
def cancel(token):
    try:
        patient_link.cancel(token)
    except (NotFound, Conflict):  # a link used meanwhile (cancelled twice) reads as any dead link
        return _not_found()
    return render_template("patient_link/cancelled.html")


@bp.post("/<token>/confirmer")
def confirm(token):
    return _page(lambda: patient_link.confirm(token), token, just_confirmed=True)


def _page(load, token, template="patient_link/show.html", **context):
    try:
        appointment = load()
    except (NotFound, Conflict):
        return _not_found()
    return render_template(template, appointment=appointment, token=token, **context)


def _not_found():
    return render_template("patient_link/refused.html", status=404), 404
