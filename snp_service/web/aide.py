"""Help inside the pages: /aide (a page per role, in plain French), the first-sign-in tour, the shortcuts overlay.

The tour is offered on the role's home page until done or skipped (``practice/tour.py``); ``?visite=1`` replays it.
"""
from __future__ import annotations

import os

from flask import Blueprint, jsonify, render_template, request, url_for

from ..policy import EVERY_ROLE, current_user, require_roles
from ..practice import space, tour

bp = Blueprint("aide", __name__, url_prefix="/aide")
PAGES = {"regulation": "La régulation d'un appel", "medecin": "Publier ses créneaux (médecin)",
         "coordination": "Coordonner la CPTS : saisons, rapports, relevé"}
# Screenshots made by the browser tests (tests/browser/test_practice.py), shown when present.
SCREENSHOTS = {"regulation": ("console.png", "grid.png", "practice.png"), "medecin": ("gp.png",),
               "coordination": ("dashboard.png",)}


@bp.app_context_processor
def tour_context():
    user = current_user() if request.endpoint else None
    found = tour.steps_for(user) if user is not None else None
    if found is None:
        return {"tour": None, "tour_replay_url": None}
    replay = url_for(found[0], visite=1)
    if space.in_practice() or request.endpoint != found[0]:
        return {"tour": None, "tour_replay_url": replay}
    steps = [{"selector": selector, "text": text} for selector, text in found[1]]
    return {"tour_replay_url": replay, "tour": {"steps": steps, "pending": tour.pending(user)}}


@bp.get("")
@require_roles(EVERY_ROLE)
def index(user):
    return render_template("aide/index.html", pages=PAGES, role=user.role, home_endpoint=tour.TOURS[user.role][0])


@bp.get("/<any(regulation, medecin, coordination):page>")
@require_roles(EVERY_ROLE)
def page(page, user):
    shots = [name for name in SCREENSHOTS[page]
             if os.path.exists(os.path.join(os.path.dirname(__file__), "static", "help", name))]
    return render_template(f"aide/{page}.html", title=PAGES[page], screenshots=shots, role=user.role)


@bp.post("/visite")
@require_roles(EVERY_ROLE)
def tour_done(user):
    tour.mark_seen(user)
    return jsonify({"seen": True})
