"""The coordinator's dashboard: this week live, tomorrow's offer per commune, the season, members, accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from . import reporting
from .extensions import db
from .models import Cpts, Practitioner, Season, User, user_cpts
from .practitioners import list_practitioners
from .seasons import list_seasons
from .timeutil import paris_today


@dataclass
class Dashboard:
    week: dict
    week_start: date
    tomorrow: date
    tomorrow_by_commune: list[dict]
    season: Season | None
    season_so_far: dict | None
    seasons: list[Season]
    practitioners: list[Practitioner]
    accounts: list[User]


def dashboard(cpts_id: int, today: date | None = None) -> Dashboard:
    """This week live, tomorrow's offer per commune, the current season so far, members and seasons."""
    today = today or paris_today()
    monday = today - timedelta(days=today.weekday())
    seasons = list_seasons(cpts_id)
    current = next((s for s in reversed(seasons) if s.start_date <= today), None)
    so_far = None
    if current is not None:
        so_far = reporting.summary([cpts_id], current.start_date, min(today, current.end_date))
    return Dashboard(
        week=reporting.summary([cpts_id], monday, monday + timedelta(days=6)),
        week_start=monday,
        tomorrow=today + timedelta(days=1),
        tomorrow_by_commune=reporting.offered_by_commune(cpts_id, today + timedelta(days=1)),
        season=current,
        season_so_far=so_far,
        seasons=seasons,
        practitioners=list_practitioners({cpts_id}),
        accounts=cpts_accounts(cpts_id),
    )


def cpts_accounts(cpts_id: int) -> list[User]:
    """The accounts attached to the CPTS (regulators, GPs, coordinators)."""
    members = select(user_cpts.c.user_id).where(user_cpts.c.cpts_id == cpts_id)
    return list(db.session.scalars(select(User).where(User.id.in_(members)).order_by(User.role, User.email)))


def coordinated_cpts(user: User) -> list[Cpts]:
    """The CPTS whose dashboard the user may open: all for an admin, their own for a coordinator."""
    if user.role == "admin":
        return list(db.session.scalars(select(Cpts).order_by(Cpts.name)))
    return list(user.cpts)
