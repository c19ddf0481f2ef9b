"""The shared agenda as a planning grid: the area's practitioners by commune, each day's hours, initials only."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from snp_service.core.timeutil import PARIS, paris_today, utcnow
from snp_service.slots.shared_agenda import planning_grid

from .factories import World

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461))


def _signed_in(client, user):
    World.sign_in_page(client, user)  # a server-side page session, as /login opens


def _grid(client, **params):
    return client.get("/regulation/agenda.json", query_string=params, headers={"Accept": "application/json"})


def test_grid_has_one_column_per_practitioner_grouped_by_commune_with_initials_only(client, world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    neighbour = world.cpts(regulation_area="Vendée", communes=(("85047", "Challans", 46.8467, -1.8781),))
    stranger = world.cpts(regulation_area="Loire")
    hilaire = world.practitioner(cpts, first_name="Claire", last_name="Lefèvre", commune_insee="85226")
    gilles = world.practitioner(cpts, last_name="Bernard")
    idle = world.practitioner(neighbour, last_name="Morel", commune_insee="85047")
    world.practitioner(stranger, last_name="Ailleurs")
    noon = datetime.combine(paris_today() + timedelta(days=1), time(12), PARIS)
    free = world.slot(hilaire, noon)
    booked = world.slot(hilaire, noon + timedelta(minutes=30))
    world.booking(booked, first_name="jeanne", last_name="durand")
    withdrawn = world.slot(hilaire, noon + timedelta(hours=1), status="withdrawn")
    _signed_in(client, world.user("regulator", cpts))

    response = _grid(client, day=(paris_today() + timedelta(days=1)).isoformat())

    assert response.status_code == 200
    grid = response.get_json()
    assert [(c["name"], [p["name"] for p in c["practitioners"]]) for c in grid["communes"]] == [
        ("Challans", ["Dr Alex Morel"]), ("Saint-Gilles-Croix-de-Vie", ["Dr Alex Bernard"]),
        ("Saint-Hilaire-de-Riez", ["Dr Claire Lefèvre"])]
    assert grid["communes"][2]["practitioners"][0]["short_name"] == "C. Lefèvre"
    assert [(s["id"], s["status"], s["initials"], s["start_minute"], s["end_minute"], s["bookable"])
            for s in grid["slots"]] == [(free.id, "free", None, 720, 735, True), (booked.id, "booked", "JD", 750, 765, False),
                                        (withdrawn.id, "withdrawn", None, 780, 795, False)]
    # The hours with slots (12:00-13:15) and one row's margin around them.
    assert grid["days"] == [{"date": (paris_today() + timedelta(days=1)).isoformat(), "first_minute": 705, "last_minute": 810}]
    assert grid["step_minutes"] == 15
    body = response.get_data(as_text=True).lower()
    assert "durand" not in body and "jeanne" not in body and gilles.id and idle.id


def test_an_unchanged_grid_answers_304_and_a_booking_changes_it(client, world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    slot = world.slot(world.practitioner(cpts), utcnow() + timedelta(hours=1))
    _signed_in(client, world.user("regulator", cpts))
    day = slot.start_at.astimezone(PARIS).date().isoformat()

    first = _grid(client, day=day)
    etag = first.headers["ETag"]
    again = client.get("/regulation/agenda.json", query_string={"day": day},
                       headers={"Accept": "application/json", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    world.booking(slot)
    changed = client.get("/regulation/agenda.json", query_string={"day": day},
                         headers={"Accept": "application/json", "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["slots"][0]["status"] == "booked"


def test_three_days_show_the_hours_of_their_slots_with_a_margin_at_a_fixed_step(ctx, world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    other = world.practitioner(cpts)
    first_day = paris_today() + timedelta(days=2)
    world.slot(gp, datetime.combine(first_day, time(7, 10), PARIS), minutes=10)
    world.slot(gp, datetime.combine(first_day + timedelta(days=2), time(21, 0), PARIS), minutes=30)
    # Issue 24: one practitioner's 20-minute block and a 7-minute slot at 01:56 never rescale the area's grid.
    for n in range(3):
        world.slot(other, datetime.combine(first_day, time(9), PARIS) + timedelta(minutes=20 * n), minutes=20)
    world.slot(other, datetime.combine(first_day + timedelta(days=1), time(1, 56), PARIS), minutes=7)

    grid = planning_grid({cpts.id}, first_day, 3)

    assert grid["step_minutes"] == 15
    # 01:41 (01:56 less a row) rounds down to 01:30; 21:30 and a row to 21:45; every day alike.
    assert [(d["first_minute"], d["last_minute"]) for d in grid["days"]] == [(90, 1305)] * 3
    assert planning_grid({cpts.id}, first_day, 1, step=5)["step_minutes"] == 5


def test_a_day_without_slots_shows_a_gps_usual_day(ctx, world):
    grid = planning_grid({world.cpts().id}, paris_today(), 1)
    assert [(d["first_minute"], d["last_minute"]) for d in grid["days"]] == [(480, 1200)]


def test_the_step_is_chosen_among_5_10_15_and_30_minutes(client, world):
    cpts = world.cpts()
    _signed_in(client, world.user("regulator", cpts))
    assert _grid(client, step=30).get_json()["step_minutes"] == 30
    assert _grid(client).get_json()["step_minutes"] == 15
    for wrong in ("7", "0", "abc", "100000000000"):
        answer = _grid(client, step=wrong)
        assert answer.status_code == 422 and "step" in answer.get_json()["error"]["fields"]


def test_the_daylight_saving_day_places_slots_by_paris_wall_clock(ctx, world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    autumn = date(2027, 10, 31)  # 03:00 CEST becomes 02:00 CET
    world.slot(gp, datetime.combine(autumn, time(14, 0), PARIS))

    grid = planning_grid({cpts.id}, autumn, 1)

    assert [(s["day"], s["start_minute"]) for s in grid["slots"]] == [("2027-10-31", 840)]
    assert grid["from"] == "2027-10-31T00:00:00+02:00" and grid["to"] == "2027-11-01T00:00:00+01:00"


def test_one_practitioner_or_one_commune_narrows_the_columns(client, world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    one = world.practitioner(cpts, commune_insee="85226")
    world.practitioner(cpts)
    _signed_in(client, world.user("regulator", cpts))

    by_practitioner = _grid(client, practitioner_id=one.id).get_json()
    by_commune = _grid(client, commune="85226").get_json()

    assert [p["id"] for c in by_practitioner["communes"] for p in c["practitioners"]] == [one.id]
    assert [p["id"] for c in by_commune["communes"] for p in c["practitioners"]] == [one.id]
    for params, field in (({"days": 7}, "days"), ({"practitioner_id": "x"}, "practitioner_id"), ({"commune": "zz"}, "commune"),
                          ({"day": "9999-12-31", "days": 3}, "day")):
        bad = _grid(client, **params)
        assert bad.status_code == 422 and field in bad.get_json()["error"]["fields"], params


def test_the_grid_page_of_a_practitioner_outside_the_area_is_not_found(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    outside = world.practitioner(world.cpts(regulation_area="Loire"))
    _signed_in(client, world.user("regulator", cpts))

    assert client.get(f"/regulation/agenda?practitioner_id={outside.id}").status_code == 404
    assert _grid(client, practitioner_id=outside.id).status_code == 404
    assert client.get(f"/regulation/agenda?practitioner_id={world.practitioner(cpts).id}").status_code == 200
