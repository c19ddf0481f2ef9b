"""The coordinator's dashboard: this week, tomorrow's offer, the season that matters today."""
from __future__ import annotations

import re
from datetime import date

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import paris_today
from snp_service.models import Season
from snp_service.reporting import dashboard
from tests.factories import PASSWORD

from .supplement_helpers import paris


@pytest.fixture
def cpts(world):
    cpts = world.cpts()
    practitioner = world.practitioner(cpts)
    for start in ("2020-07-15T10:00", "2020-09-01T10:00", "2027-07-20T10:00"):
        world.slot(practitioner, paris(start), status="expired")
    db.session.add_all([Season(cpts=cpts, name="Été 2020", start_date=date(2020, 7, 13), end_date=date(2020, 9, 10)),
                        Season(cpts=cpts, name="Été 2027", start_date=date(2027, 7, 13), end_date=date(2027, 9, 10))])
    db.session.commit()
    return cpts


@pytest.mark.parametrize("today, name, kind, offered", [
    (date(2020, 8, 1), "Été 2020", "current", 1),  # so far: 15/07 only
    (date(2020, 9, 10), "Été 2020", "current", 2),  # its last day is still current
    (date(2026, 12, 1), "Été 2020", "last", 2),  # long ended: the last season, whole
    (date(2027, 7, 13), "Été 2027", "current", 0),
    (date(2027, 9, 11), "Été 2027", "last", 1),
])
def test_only_a_season_holding_today_is_current(cpts, today, name, kind, offered):
    board = dashboard.dashboard(cpts.id, today=today)
    assert (board.season.name, board.season_kind, board.season_figures["offered"]) == (name, kind, offered)


def test_before_any_season_has_started_the_next_one_is_shown(world):
    cpts = world.cpts()
    db.session.add(Season(cpts=cpts, name="Été 2027", start_date=date(2027, 7, 13), end_date=date(2027, 9, 10)))
    db.session.commit()
    board = dashboard.dashboard(cpts.id, today=date(2027, 1, 5))
    assert (board.season.name, board.season_kind, board.season_figures) == ("Été 2027", "next", None)


def test_the_page_says_which_season_it_shows(client, world):
    cpts = world.cpts()
    year = paris_today().year
    db.session.add_all([Season(cpts=cpts, name="Passée", start_date=date(year - 1, 7, 13), end_date=date(year - 1, 9, 10)),
                        Season(cpts=cpts, name="Future", start_date=date(year + 1, 7, 13), end_date=date(year + 1, 9, 10))])
    db.session.commit()
    coordinator = world.user("coordinator", cpts)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf.group(1)})
    page = client.get("/coordination").get_data(as_text=True)
    assert "Dernière saison" in page and "<strong>Passée</strong>" in page
    assert "Saison en cours" not in page
