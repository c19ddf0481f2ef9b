"""The coordinator's dashboard: this week live, tomorrow's offer per commune, the season, members, accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..core.extensions import db
from ..core.timeutil import day_in_bounds, paris_today
from ..cpts.practitioners import list_practitioners
from ..cpts.record import commune_names
from ..models import Practitioner, Season, User, user_cpts
from . import fill_rate
from .seasons import list_seasons


# Which season the dashboard shows: the one holding today, else the last ended, else the next one.
SEASON_KINDS = ("current", "last", "next")


@dataclass
class Dashboard:
    week: dict
    week_start: date
    tomorrow: date
    tomorrow_by_commune: list[dict]
    season: Season | None
    season_kind: str | None  # one of SEASON_KINDS
    season_figures: dict | None  # current: so far; last: the whole season; next: none yet
    seasons: list[Season]
    practitioners: list[Practitioner]
    accounts: list[User]
    members: list[tuple[Practitioner, str]]  # each member with their commune's name, by commune then name


def dashboard(cpts_id: int, today: date | None = None) -> Dashboard:
    """This week live, tomorrow's offer per commune, the season that matters today, members and seasons."""
    today = today or paris_today()
    monday = today - timedelta(days=today.weekday())
    seasons = list_seasons(cpts_id)
    season, kind = shown_season(seasons, today)
    figures = None
    if kind == "current":
        figures = fill_rate.summary([cpts_id], season.start_date, today)
    elif kind == "last":
        figures = fill_rate.summary([cpts_id], season.start_date, season.end_date)
    practitioners = list_practitioners({cpts_id})
    communes = commune_names({cpts_id}, {p.commune_insee for p in practitioners})
    members = sorted(((p, communes.get(p.commune_insee, p.commune_insee or "")) for p in practitioners),
                     key=lambda member: (member[1] or "\uffff", member[0].last_name, member[0].first_name))
    return Dashboard(
        week=fill_rate.summary([cpts_id], monday, monday + timedelta(days=6)),
        week_start=monday,
        tomorrow=today + timedelta(days=1),
        tomorrow_by_commune=fill_rate.offered_by_commune(cpts_id, today + timedelta(days=1)),
        season=season,
        season_kind=kind,
        season_figures=figures,
        seasons=seasons,
        practitioners=practitioners,
        accounts=cpts_accounts(cpts_id),
        members=members,
    )


def shown_season(seasons: list[Season], today: date) -> tuple[Season | None, str | None]:
    """Only a season whose days hold today is current; otherwise the last one ended, else the next one.

    A season outside the date bounds (stored before they were checked) has no report: it is never shown."""
    seasons = [s for s in seasons if day_in_bounds(s.start_date) and day_in_bounds(s.end_date)]
    current = [s for s in seasons if s.start_date <= today <= s.end_date]
    if current:
        return current[-1], "current"
    ended = [s for s in seasons if s.end_date < today]
    if ended:
        return max(ended, key=lambda s: s.end_date), "last"
    upcoming = [s for s in seasons if s.start_date > today]
    if upcoming:
        return min(upcoming, key=lambda s: s.start_date), "next"
    return None, None


def cpts_accounts(cpts_id: int) -> list[User]:
    """The accounts attached to the CPTS (regulators, GPs, coordinators)."""
    members = select(user_cpts.c.user_id).where(user_cpts.c.cpts_id == cpts_id)
    return list(db.session.scalars(select(User).where(User.id.in_(members)).order_by(User.role, User.email)))
