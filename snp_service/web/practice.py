"""The practice space, /regulation/entrainement: enter, pick a scripted caller, finish it (scorecard), reset, leave.

While in practice every request of the session runs on the trainee's practice database (``practice/space.py``):
the real console and grid are the practice screens. Only the scorecard is written to the real database.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for

from ..core.errors import Invalid, NotFound
from ..policy import PRACTISERS, require_roles, visible_cpts_ids
from ..practice import runs, scenarios, space

bp = Blueprint("practice", __name__, url_prefix="/regulation/entrainement")
MAX_ERRORS_LISTED = 20


@bp.app_context_processor
def practice_context():
    state = g.get("practice") if space.in_practice() else None
    if state is None:
        return {"practice_mode": None}
    return {"practice_mode": {"card": scenarios.card(state) if state.get("scenario") else None,
                         "done": state.get("done", False)}}


@bp.get("")
@require_roles(PRACTISERS)
def index(user):
    state = g.get("practice") if space.in_practice() else None
    return render_template("practice/index.html", scenarios=scenarios.SCENARIOS, in_practice=state is not None,
                           results={r["number"]: r for r in (state or {}).get("results", [])})


@bp.post("")
@require_roles(PRACTISERS)
def enter(user):
    space.rebuild_and_bind(current_app, user, visible_cpts_ids(user))
    session[space.SESSION_KEY] = {"user": user.id, "scenario": None, "results": []}
    return redirect(url_for(".index"))


@bp.post("/scenarios/<int:number>")
@require_roles(PRACTISERS)
def start(number, user):
    scenario = scenarios.BY_NUMBER.get(number)
    if scenario is None:
        raise NotFound("Scénario inconnu")
    results = _with_skipped((session.get(space.SESSION_KEY) or {}).get("results", []))
    scope = visible_cpts_ids(user)
    facts = space.rebuild_and_bind(current_app, user, scope)
    state = scenarios.arrange(scenario, space.engine_for(current_app, user.id), facts["practitioner_ids"], scope)
    session[space.SESSION_KEY] = {"user": user.id, "results": results} | state
    return redirect(url_for("regulation.home"))


@bp.post("/fin")
@require_roles(PRACTISERS)
def finish(user):
    state = g.get("practice") if space.in_practice() else None
    if not state or not state.get("scenario") or state.get("done"):
        raise Invalid("Aucun scénario en cours", code="no_scenario")
    metrics = request.get_json(silent=True)
    if not isinstance(metrics, dict):
        raise Invalid("Mesures attendues", fields={"body": ["JSON object"]})
    errors = metrics.get("errors") or []
    if not isinstance(errors, list) or len(errors) > MAX_ERRORS_LISTED or not all(isinstance(e, str) for e in errors):
        raise Invalid("Erreurs invalides", fields={"errors": [f"at most {MAX_ERRORS_LISTED} strings"]})
    ended = metrics.pop("ended", False)
    if not isinstance(ended, bool):
        raise Invalid("Fin d'appel invalide", fields={"ended": ["boolean"]})
    ok, why = scenarios.check(state, ended=ended)
    scenario = scenarios.BY_NUMBER[state["scenario"]]
    run = runs.record(user, scenario.key, metrics | {"errors": len(errors)}, ok)
    result = {"number": scenario.number, "title": scenario.title, "ok": ok, "why": why,
              "seconds": round(run.duration_ms / 1000, 1), "navigation_keys": run.navigation_keys,
              "typed_chars": run.typed_chars, "errors": [e[:200] for e in errors]}
    kept = [r for r in state.get("results", []) if r["number"] != scenario.number]
    session[space.SESSION_KEY] = state | {"done": True, "results": kept + [{k: result[k] for k in (
        "number", "ok", "seconds", "navigation_keys", "typed_chars")}]}
    next_number = scenario.number + 1 if scenario.number + 1 in scenarios.BY_NUMBER else None
    return jsonify(result | {"next": url_for(".start", number=next_number) if next_number else None})


def _with_skipped(results: list[dict]) -> list[dict]:
    return scenarios.with_skipped(results, g.get("practice") if space.in_practice() else None)


@bp.get("/sms.json")
@require_roles(PRACTISERS)
def sms(user):
    state = g.get("practice") if space.in_practice() else None
    text = space.latest_patient_sms(state.get("baseline", 0)) if state else None
    return jsonify({"text": text})


@bp.post("/reinitialiser")
@require_roles(PRACTISERS)
def reset(user):
    results = _with_skipped((session.get(space.SESSION_KEY) or {}).get("results", []))
    space.rebuild_and_bind(current_app, user, visible_cpts_ids(user))
    session[space.SESSION_KEY] = {"user": user.id, "scenario": None, "results": results}
    return redirect(url_for(".index"))


@bp.post("/quitter")
@require_roles(PRACTISERS)
def leave(user):
    session.pop(space.SESSION_KEY, None)
    space.remove(current_app, user.id)
    return redirect(url_for("regulation.home"))
