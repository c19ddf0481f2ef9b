"""The regulator's console and the shared agenda (a planning grid of the area).

Both pages talk to the JSON API (search, bookings, practitioner look-up) with the session
cookie and the CSRF header; the grid polls ``agenda.json``, answered 304 while nothing changed.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from .. import formatting
from ..bookings.booking import CANCELLED_BY_ROLE
from ..core.errors import Invalid
from ..core.timeutil import check_days, paris_today
from ..models import Channel
from ..policy import BOOKERS, get_practitioner, require_roles, visible_cpts_ids
from ..slots import search, shared_agenda

bp = Blueprint("regulation", __name__, url_prefix="/regulation")
INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


@bp.get("")
@require_roles(BOOKERS)
def home(user):
    by = CANCELLED_BY_ROLE[user.role][0]
    return render_template("regulation/home.html", communes=search.area_communes(visible_cpts_ids(user)),
                           canceller=(by, formatting.CANCELLER_LABELS[by]),
                           professions=list(formatting.PROFESSION_LABELS.items()))


@bp.get("/agenda")
@require_roles(BOOKERS)
def agenda(user):
    first_day, days = _agenda_period()
    practitioner_id = _practitioner_filter()
    practitioner = get_practitioner(user, practitioner_id) if practitioner_id else None
    by = CANCELLED_BY_ROLE[user.role][0]
    return render_template("regulation/agenda.html", communes=search.area_communes(visible_cpts_ids(user)),
                           day=first_day.isoformat(), days=days, practitioner=practitioner,
                           canceller=(by, formatting.CANCELLER_LABELS[by]), steps=shared_agenda.STEPS_MINUTES,
                           step=_step(),
                           channel=Channel.SAS if request.args.get("origin") else Channel.NUMBER_116117)


@bp.get("/praticien/<int:practitioner_id>")
@require_roles(BOOKERS)
def practitioner_agenda(practitioner_id, user):
    """The SAS platform's booking link (``Slot.comment``, a path naming the practitioner): their agenda, with
    the ``origin`` the platform appended kept, so that a booking from it has channel ``sas``."""
    get_practitioner(user, practitioner_id)  # 404 outside the user's area
    return redirect(url_for(".agenda", practitioner_id=practitioner_id, origin=request.args.get("origin") or "sas"))


@bp.get("/agenda.json")
@require_roles(BOOKERS)
def agenda_json(user):
    first_day, days = _agenda_period()
    practitioner_id = _practitioner_filter()
    if practitioner_id is not None:
        get_practitioner(user, practitioner_id)  # 404 outside the user's area
    grid = shared_agenda.planning_grid(visible_cpts_ids(user), first_day, days,
                                       practitioner_id=practitioner_id, commune=_commune_filter(), step=_step())
    # Polled every few seconds by every open grid: an unchanged grid costs one query and a 304 (the page
    # sends its ETag itself; the answer, holding patients, is no-store like every signed-in one).
    response = jsonify(grid)
    response.add_etag()
    return response.make_conditional(request)


def _agenda_period() -> tuple[date, int]:
    try:
        first_day = date.fromisoformat(request.args.get("day") or paris_today().isoformat())
    except ValueError:
        raise Invalid("Date invalide", fields={"day": ["expected YYYY-MM-DD"]})
    days = request.args.get("days", 1, type=int)
    if days not in shared_agenda.GRID_DAYS:
        raise Invalid("Nombre de jours invalide : 1 ou 3", fields={"days": ["1 or 3"]})
    check_days(day=first_day)
    return first_day, days


def _step() -> int:
    raw = request.args.get("step")
    if not raw:
        return shared_agenda.DEFAULT_STEP
    if raw not in {str(minutes) for minutes in shared_agenda.STEPS_MINUTES}:
        raise Invalid("Pas de la grille invalide : 5, 10, 15 ou 30 minutes", fields={"step": ["5, 10, 15 or 30"]})
    return int(raw)


def _practitioner_filter() -> int | None:
    raw = request.args.get("practitioner_id")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid("Praticien invalide", fields={"practitioner_id": ["expected a practitioner id"]})
    return int(raw)


def _commune_filter() -> str | None:
    raw = request.args.get("commune")
    if not raw:
        return None
    if not INSEE.match(raw):
        raise Invalid("Commune invalide", fields={"commune": ["5-character INSEE code"]})
    return raw
