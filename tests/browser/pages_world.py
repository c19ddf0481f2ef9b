"""A small CPTS with something on every GP and coordinator page: two summers, acts, accounts, a booking today."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today
from snp_service.models import Cpts, Season, User
from snp_service.supplements import ledger

from ..supplement_helpers import act
from .conftest import started_today

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85234", "Saint-Jean-de-Monts", 46.7906, -2.0600))


@dataclass
class PagesWorld:
    cpts: Cpts
    gp: User
    coordinator: User
    regulator: User
    seasons: list[Season]


def pages_world(world) -> PagesWorld:
    """Built in two batches of one commit each, around the ledger's accrual (a service)."""
    with world.batch():
        cpts = world.cpts("CPTS Littoral", communes=COMMUNES)
        gp = world.gp(cpts, last_name="Durand", commune_insee="85234")
        other = world.practitioner(cpts, last_name="Martin")
        coordinator = world.user("coordinator", cpts, email="coordination@test.example")
        regulator = world.user("regulator", cpts, email="regulation@test.example")
        # An account also of a neighbour CPTS: the dashboard lists it without its buttons (issue 28).
        shared = world.user("regulator", cpts, email="regulation-partagee@test.example")
        shared.cpts.append(world.cpts("CPTS Voisine"))
        world.save_changes()
        # Two summers: 2025 three quarters filled, 2026 filled. Each week's acts: Durand one eligible and one
        # booked 72 h ahead (excluded), Martin one eligible and (2026) one by the patient's treating doctor
        # (excluded).
        for year, filled in ((2025, 3), (2026, 4)):
            for week in range(3):
                for n in range(4):
                    start = datetime(year, 7, 14 + 7 * week, 10 + n, 0, tzinfo=PARIS)
                    if n < filled:
                        act(world, gp.practitioner if n % 2 == 0 else other, start.strftime("%Y-%m-%dT%H:%M"),
                            booked_before=timedelta(hours=72 if n == 2 else 2), by_treating_doctor=(n == 3))
                    else:
                        world.slot(gp.practitioner, start, status="expired")
    ledger.accrue_between("test", date(2025, 7, 1), date(2026, 8, 31))
    with world.batch():
        seasons = [Season(cpts_id=cpts.id, name=f"Été {y}", start_date=date(y, 7, 13), end_date=date(y, 8, 2))
                   for y in (2025, 2026)]
        db.session.add_all(seasons)
        # Today: a booking that has started (outcome buttons), free slots tomorrow and in three weeks.
        world.booking(world.slot(gp.practitioner, started_today(timedelta(minutes=20))), last_name="Bernard")
        tomorrow = paris_today() + timedelta(days=1)
        for hour in (9, 10):
            world.slot(gp.practitioner, datetime.combine(tomorrow, datetime.min.time().replace(hour=hour), PARIS))
        world.slot(gp.practitioner, datetime.combine(tomorrow + timedelta(weeks=3),
                                                     datetime.min.time().replace(hour=11), PARIS))
    return PagesWorld(cpts, gp, coordinator, regulator, seasons)
