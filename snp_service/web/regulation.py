"""The regulator's console: find a slot during the call, book it, read back the confirmation.

The pages talk to the JSON API (search, bookings, practitioners) with the session
cookie and the CSRF header; the shared agenda refreshes from ``agenda.json``.
"""
from datetime import date

from flask import Blueprint, jsonify, render_template, request

from .. import search
from ..errors import Invalid
from ..models import CHANNELS
from ..policy import get_practitioner, require_roles, visible_cpts_ids
from ..timeutil import paris_today

bp = Blueprint("regulation", __name__, url_prefix="/regulation")
AGENDA_DAYS = (1, 3)


@bp.get("")
@require_roles("regulator", "coordinator", "admin")
def home(user):
    scope = visible_cpts_ids(user)
    chosen = request.args.get("slot", type=int)
    channel = request.args.get("channel")
    return render_template("regulation/home.html", communes=search.area_communes(scope),
                           chosen=search.chosen_slot(scope, chosen) if chosen else None,
                           channel=channel if channel in CHANNELS else None)


@bp.get("/agenda")
@require_roles("regulator", "coordinator", "admin")
def agenda(user):
    return render_template("regulation/agenda.html", today=paris_today().isoformat())


@bp.get("/praticien/<int:practitioner_id>")
@require_roles("regulator", "coordinator", "admin")
def practitioner_agenda(practitioner_id, user):
    """The SAS platform's booking link (``Slot.comment``): this practitioner's agenda, the platform's
    ``origin`` kept in the URL; a booking made from this visit has channel ``sas``."""
    practitioner = get_practitioner(user, practitioner_id)
    return render_template("regulation/agenda.html", today=paris_today().isoformat(), practitioner=practitioner,
                           channel="sas", origin=request.args.get("origin"))


@bp.get("/agenda.json")
@require_roles("regulator", "coordinator", "admin")
def agenda_json(user):
    first_day, days = _agenda_period()
    practitioner_id = request.args.get("practitioner_id", type=int)
    if practitioner_id is not None:
        get_practitioner(user, practitioner_id)  # 404 outside the user's area
    return jsonify(search.shared_agenda(visible_cpts_ids(user), first_day, days, practitioner_id))


def _agenda_period() -> tuple[date, int]:
    try:
        first_day = date.fromisoformat(request.args.get("day") or paris_today().isoformat())
    except ValueError:
        raise Invalid("Date invalide", fields={"day": ["expected YYYY-MM-DD"]})
    days = request.args.get("days", 1, type=int)
    if days not in AGENDA_DAYS:
        raise Invalid("Nombre de jours invalide", fields={"days": ["1 or 3"]})
    return first_day, days
