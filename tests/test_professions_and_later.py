"""Every profession in the search, the grid, the reports and the supplement; later slots when nothing fits."""
from __future__ import annotations

from datetime import date, timedelta

from snp_service.core.timeutil import utcnow
from snp_service.slots import shared_agenda
from snp_service.supplements import ledger, statements

from .supplement_helpers import act

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461),
            ("85047", "Challans", 46.8467, -1.8781))
CHALLANS = {"commune_insee": "85047", "lat": 46.8467, "lon": -1.8781}  # ~17 km from Saint-Gilles
NANTES = {"commune_insee": "44109", "lat": 47.2184, "lon": -1.5536}  # ~61 km
PARIS_CITY = {"commune_insee": "75056", "lat": 48.8566, "lon": 2.3522}  # ~370 km


def _area(world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    return cpts, world.headers(world.user("regulator", cpts))


def _search(client, headers, **params):
    response = client.get("/api/v1/slots/search", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_search_by_profession_and_every_profession_when_absent(client, world):
    cpts, headers = _area(world)
    gp = world.practitioner(cpts)
    nurse = world.practitioner(cpts, profession="nurse", first_name="Claire")
    physio = world.practitioner(cpts, profession="physiotherapist")
    base = utcnow() + timedelta(hours=2)
    gp_slot, nurse_slot, physio_slot = (world.slot(p, base + timedelta(minutes=15 * i))
                                        for i, p in enumerate((gp, nurse, physio)))

    every = _search(client, headers, commune="85222")["results"]
    nurses = _search(client, headers, commune="85222", profession="nurse")["results"]
    gps = _search(client, headers, commune="85222", profession="gp")["results"]

    assert [r["slot"]["id"] for r in every] == [gp_slot.id, nurse_slot.id, physio_slot.id]
    assert [r["practitioner"]["profession"] for r in every] == ["gp", "nurse", "physiotherapist"]
    assert [r["slot"]["id"] for r in nurses] == [nurse_slot.id]
    assert [r["slot"]["id"] for r in gps] == [gp_slot.id]


def test_unknown_profession_is_a_422(client, world):
    _cpts, headers = _area(world)
    response = client.get("/api/v1/slots/search", query_string={"profession": "surgeon"}, headers=headers)
    assert response.status_code == 422


def test_no_later_slots_when_the_window_has_three(client, world):
    cpts, headers = _area(world)
    gp = world.practitioner(cpts)
    for i in range(3):
        world.slot(gp, utcnow() + timedelta(hours=1, minutes=15 * i))
    world.slot(gp, utcnow() + timedelta(hours=60))
    answer = _search(client, headers, commune="85222")
    assert len(answer["results"]) == 3 and "later" not in answer


def test_later_slots_within_the_radius_first_then_beyond_up_to_100_km(client, world):
    cpts, headers = _area(world)
    near = world.practitioner(cpts)
    challans = world.practitioner(cpts, **CHALLANS)
    nantes = world.practitioner(cpts, **NANTES)
    paris = world.practitioner(cpts, **PARIS_CITY)
    in_window = world.slot(near, utcnow() + timedelta(hours=3))
    after = utcnow() + timedelta(hours=5)  # the window is 4 h
    nantes_first = world.slot(nantes, after)  # earliest of all, but beyond the radius
    near_later = world.slot(near, after + timedelta(hours=30))
    challans_later = world.slot(challans, after + timedelta(hours=2))
    world.slot(paris, after)  # beyond 100 km: never offered
    world.slot(near, after + timedelta(days=40))  # beyond the bounded horizon

    answer = _search(client, headers, commune="85222", radius_km=20, to=(utcnow() + timedelta(hours=4)).isoformat())

    assert [r["slot"]["id"] for r in answer["results"]] == [in_window.id]
    later = answer["later"]
    assert [r["slot"]["id"] for r in later] == [challans_later.id, near_later.id, nantes_first.id]
    assert 55 < later[2]["distance_km"] < 70 and later[2]["practitioner"]["profession"] == "gp"
    assert set(later[0]) == set(answer["results"][0])


def test_later_slots_are_bounded_and_follow_the_profession(client, world):
    cpts, headers = _area(world)
    gp = world.practitioner(cpts)
    nurse = world.practitioner(cpts, profession="nurse")
    after = utcnow() + timedelta(hours=50)
    for i in range(8):
        world.slot(gp, after + timedelta(minutes=15 * i))
    nurse_slot = world.slot(nurse, after + timedelta(hours=5))

    answer = _search(client, headers, commune="85222")
    nurses = _search(client, headers, commune="85222", profession="nurse")

    assert answer["results"] == [] and len(answer["later"]) == 5
    starts = [r["slot"]["start"] for r in answer["later"]]
    assert starts == sorted(starts)
    assert [r["slot"]["id"] for r in nurses["later"]] == [nurse_slot.id]


def test_no_dr_before_a_non_physicians_name_and_the_grid_shows_professions(world):
    cpts, _headers = _area(world)
    gp = world.practitioner(cpts, first_name="Anne", last_name="Bonnet")
    nurse = world.practitioner(cpts, profession="nurse", first_name="Claire", last_name="Morel")
    assert gp.display_name == "Dr Anne Bonnet" and nurse.display_name == "Claire Morel"
    grid = shared_agenda.planning_grid({cpts.id}, date.today(), 1)
    columns = {c["id"]: c for commune in grid["communes"] for c in commune["practitioners"]}
    assert (columns[gp.id]["name"], columns[gp.id]["profession"]) == ("Dr Anne Bonnet", "gp")
    assert (columns[nurse.id]["name"], columns[nurse.id]["profession"]) == ("Claire Morel", "nurse")


def test_fill_rate_grouped_by_profession(client, world):
    cpts, _headers = _area(world)
    coordinator = world.headers(world.user("coordinator", cpts))
    gp = world.practitioner(cpts)
    nurse = world.practitioner(cpts, profession="nurse")
    day = (utcnow() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    world.booking(world.slot(gp, day))
    world.slot(gp, day + timedelta(minutes=15))
    world.slot(nurse, day)
    paris_day = (day + timedelta(hours=1)).date().isoformat()
    response = client.get("/api/v1/reports/fill-rate", headers=coordinator,
                          query_string={"cpts_id": cpts.id, "from": paris_day, "to": paris_day, "group_by": "profession"})
    assert response.status_code == 200, response.get_json()
    rows = {r["key"]: (r["offered"], r["filled"], r["fill_rate"]) for r in response.get_json()["breakdown"]}
    assert rows == {"gp": (2, 1, 0.5), "nurse": (1, 0, 0.0)}
    csv = client.get("/api/v1/reports/fill-rate", headers=coordinator,
                     query_string={"cpts_id": cpts.id, "from": paris_day, "to": paris_day, "group_by": "profession",
                                   "format": "csv"}).get_data(as_text=True)
    assert "Profession" in csv and "Infirmier" in csv


def test_supplement_only_for_the_configured_professions(world, app):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    nurse = world.practitioner(cpts, profession="nurse")
    act(world, gp, "2020-07-06T10:00")
    act(world, nurse, "2020-07-06T10:00")

    ledger.accrue(today=date(2020, 7, 31))
    lines = {line["practitioner_id"]: line["amount_cents"] for line in statements.statement(cpts.id, "2020-07")["lines"]}
    assert lines == {gp.id: 1500}

    app.config["SUPPLEMENT_RULES"] = app.config["SUPPLEMENT_RULES"] | {"professions": ("gp", "nurse")}
    ledger.accrue(today=date(2020, 7, 31))
    lines = {line["practitioner_id"]: line["amount_cents"] for line in statements.statement(cpts.id, "2020-07")["lines"]}
    assert lines == {gp.id: 1500, nurse.id: 1500}
