"""Seasons of a CPTS, their reports and their comparison.

A season is a named range of Europe/Paris days, both included ("Été 2026",
13/07-10/09). Callers check that the actor coordinates the season's CPTS.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.hygiene import name_problem, visible
from ..core.timeutil import check_days
from ..cpts.record import get_cpts
from ..models import Season, User
from . import fill_rate

# (code, French label) of the summary figures shown side by side in a comparison.
COMPARED_FIGURES = (
    ("offered", "Créneaux offerts"),
    ("filled", "Créneaux pourvus"),
    ("fill_rate", "Taux de remplissage"),
    ("avg_offered_per_day", "Créneaux offerts par jour"),
    ("practitioners", "Praticiens participants"),
    ("share_without_treating_doctor", "Part sans médecin traitant"),
    ("no_show_rate", "Taux de rendez-vous non honorés"),
    ("regulated_acts", "Actes régulés"),
    ("supplement_cents", "Majorations SNP"),
)


def get_season(season_id: int) -> Season:
    season = db.session.get(Season, season_id)
    if season is None:
        raise NotFound("Saison introuvable")
    return season


def list_seasons(cpts_id: int) -> list[Season]:
    return list(db.session.scalars(select(Season).where(Season.cpts_id == cpts_id).order_by(Season.start_date)))


def create_season(actor: User, data: dict) -> Season:
    get_cpts(data["cpts_id"])
    _check_dates(data["start_date"], data["end_date"])
    _check_name(data["name"])
    with write_transaction():
        season = Season(cpts_id=data["cpts_id"], name=data["name"].strip(),
                        start_date=data["start_date"], end_date=data["end_date"])
        db.session.add(season)
        _flush_unique_name()
        audit.record(actor, "season.create", season, after=_summary(season))
    return season


def update_season(actor: User, season_id: int, data: dict) -> Season:
    with write_transaction():
        season = get_season(season_id)
        before = _summary(season)
        if data.get("name") is not None:
            _check_name(data["name"])
        for key in ("name", "start_date", "end_date"):
            if data.get(key) is not None:
                setattr(season, key, data[key].strip() if key == "name" else data[key])
        _check_dates(season.start_date, season.end_date)
        _flush_unique_name()
        audit.record(actor, "season.update", season, before=before, after=_summary(season))
    return season


def _check_name(name: str) -> None:
    # The pages reach this service without the API's schema: the name rule is checked here too.
    if not visible(name):
        raise Invalid("Donnez un nom à la saison", fields={"name": ["Must show at least one visible character."]})
    if problem := name_problem(name):
        raise Invalid("Le nom de la saison contient un caractère de contrôle du sens d'écriture : retirez-le",
                      fields={"name": [problem]})


def _check_dates(start: date, end: date) -> None:
    check_days(start_date=start, end_date=end)
    if end < start:
        raise Invalid("La saison se termine avant de commencer", fields={"end_date": ["before start_date"]})
    if fill_rate.period_days(start, end) > 366:
        raise Invalid("Une saison dure au plus un an", fields={"end_date": ["at most 366 days after start_date"]})


def _flush_unique_name() -> None:
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict("Une saison de cette CPTS porte déjà ce nom", code="name_taken", fields={"name": ["already used"]})


def _summary(season: Season) -> dict:
    return {"cpts_id": season.cpts_id, "name": season.name, "start_date": season.start_date.isoformat(),
            "end_date": season.end_date.isoformat()}


def season_report(season: Season) -> dict:
    """The season's full report: summary and every breakdown."""
    return {"season": season} | fill_rate.full_report([season.cpts_id], season.start_date, season.end_date)


def compare(first: Season, second: Season) -> dict:
    """Two seasons side by side: each figure and its difference, and the weekly fill rates overlaid.

    Seasons of different years fall on different ISO weeks, so curves are aligned
    on the season's own weeks: week 1 is its first seven days.
    """
    reports = [season_report(first), season_report(second)]
    figures = [{"code": code, "label": label, "a": reports[0]["summary"][code], "b": reports[1]["summary"][code],
                "difference": _difference(reports[0]["summary"][code], reports[1]["summary"][code])}
               for code, label in COMPARED_FIGURES]
    curves = [season_weeks(report["breakdowns"]["day"]) for report in reports]
    weeks = [{"week": n + 1, "a": _at(curves[0], n), "b": _at(curves[1], n)}
             for n in range(max(len(curves[0]), len(curves[1])))]
    return {"a": reports[0], "b": reports[1], "figures": figures, "weekly": weeks}


def season_weeks(days: list[dict]) -> list[dict]:
    """Daily rows folded into the season's own weeks (days 1-7, 8-14, ...)."""
    weeks = []
    for n in range(0, len(days), 7):
        chunk = days[n:n + 7]
        offered, filled = sum(d["offered"] for d in chunk), sum(d["filled"] for d in chunk)
        weeks.append({"key": n // 7 + 1, "offered": offered, "filled": filled,
                      "fill_rate": fill_rate.ratio(filled, offered)})
    return weeks


def _at(curve: list[dict], index: int) -> float | None:
    return curve[index]["fill_rate"] if index < len(curve) else None


def _difference(a, b):
    """b - a for numbers; None when either side has no value (a rate of an empty season)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return round(b - a, 4)
    return None
