"""The regulator's console: find a slot during the call, book it, read back the confirmation.

The pages talk to the JSON API (search, bookings, practitioners) with the session
cookie and the CSRF header; the shared agenda refreshes from ``agenda.json``.
"""
from datetime import date

from flask import Blueprint, jsonify, render_template, request

from .. import search
from ..errors import Invalid
from ..policy import require_roles, visible_cpts_ids
from ..timeutil import paris_today

bp = Blueprint("regulation", __name__, url_prefix="/regulation")
AGENDA_DAYS = (1, 3)


@bp.get("")
@require_roles("regulator", "coordinator", "admin")
def home(user):
    scope = visible_cpts_ids(user)
    chosen = request.args.get("slot", type=int)
    return render_template("regulation/home.html", communes=search.area_communes(scope),
                           chosen=search.chosen_slot(scope, chosen) if chosen else None)


@bp.get("/agenda")
@require_roles("regulator", "coordinator", "admin")
def agenda(user):
    return render_template("regulation/agenda.html", today=paris_today().isoformat())


@bp.get("/agenda.json")
@require_roles("regulator", "coordinator", "admin")
def agenda_json(user):
    first_day, days = _agenda_period()
    return jsonify(search.shared_agenda(visible_cpts_ids(user), first_day, days))


def _agenda_period() -> tuple[date, int]:
    try:
        first_day = date.fromisoformat(request.args.get("day") or paris_today().isoformat())
    except ValueError:
        raise Invalid("Date invalide", fields={"day": ["expected YYYY-MM-DD"]})
    days = request.args.get("days", 1, type=int)
    if days not in AGENDA_DAYS:
        raise Invalid("Nombre de jours invalide", fields={"days": ["1 or 3"]})
    return first_day, days
