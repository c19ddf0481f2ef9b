"""Scorecards of the practice space, kept in the real database (the one real write of practice), and what the
coordinator's dashboard shows of them: per regulator, scenarios completed, last date, median time.

No patient data: the callers are fictional, and a run holds the trainee, the scenario, figures and a yes/no. A run
is not an audit event: it changes no real object, and the real audit trail stays exactly what it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.errors import Invalid
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import PracticeRun, Role, User, user_cpts

# Bounds of what a browser reports (a run longer than an hour or these counts is not a measurement).
MAX_DURATION_MS = 3_600_000
MAX_COUNT = 100_000


def record(user: User, scenario: str, metrics: dict, ok: bool) -> PracticeRun:
    """Keep one scorecard. On the real database through a session of its own, whatever the request is bound to."""
    figures = {}
    for key, bound in (("duration_ms", MAX_DURATION_MS), ("navigation_keys", MAX_COUNT), ("typed_chars", MAX_COUNT),
                       ("errors", MAX_COUNT)):
        value = metrics.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= bound:
            raise Invalid("Mesure invalide", fields={key: [f"integer 0..{bound}"]})
        figures[key] = value
    run = PracticeRun(user_id=user.id, scenario=scenario[:40], ok=bool(ok), at=utcnow(), **figures)
    with Session(db.engine, expire_on_commit=False) as session, session.begin():
        session.add(run)
    return run


@dataclass(frozen=True)
class Practice:
    user_id: int
    email: str
    scenarios_completed: int
    scenarios_ok: int
    last_at: datetime | None
    median_seconds: float | None


def by_regulator(cpts_ids: set[int] | None) -> list[Practice]:
    """For each regulator of these CPTS (None: every one), what they practised."""
    regulators = select(User).where(User.role == Role.REGULATOR).order_by(User.email)
    if cpts_ids is not None:
        regulators = regulators.where(User.id.in_(select(user_cpts.c.user_id).where(user_cpts.c.cpts_id.in_(cpts_ids))))
    with Session(db.engine) as session:
        users = list(session.scalars(regulators))
        runs = list(session.scalars(select(PracticeRun).where(PracticeRun.user_id.in_([u.id for u in users]))))
    rows = []
    for user in users:
        own = [r for r in runs if r.user_id == user.id]
        rows.append(Practice(
            user_id=user.id, email=user.email, scenarios_completed=len({r.scenario for r in own}),
            scenarios_ok=len({r.scenario for r in own if r.ok}), last_at=max((r.at for r in own), default=None),
            median_seconds=round(median(r.duration_ms for r in own) / 1000, 1) if own else None))
    return rows
