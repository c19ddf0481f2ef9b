"""The regulator's slot search: who sees what, and in which order."""
from __future__ import annotations

from datetime import timedelta

import pytest

from snp_service.core.timeutil import utcnow

# Three communes on the Vendée coast: Saint-Gilles (centre), Saint-Hilaire (~5 km), Challans (~20 km).
COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461),
            ("85047", "Challans", 46.8467, -1.8781))


def _search(client, headers, **params):
    response = client.get("/api/v1/slots/search", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def _area(world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    regulator = world.user("regulator", cpts)
    return cpts, world.headers(regulator)


def test_treating_doctor_first_then_start_then_distance(client, world):
    cpts, headers = _area(world)
    base = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    near = world.practitioner(cpts, commune_insee="85226", lat=46.7206, lon=-1.9461)
    far = world.practitioner(cpts, commune_insee="85047", lat=46.8467, lon=-1.8781)
    treating = world.practitioner(cpts, rpps="12345678901", commune_insee="85047", lat=46.8467, lon=-1.8781)
    at_far_same_time = world.slot(far, base)
    at_near_same_time = world.slot(near, base)
    earliest_far = world.slot(far, base - timedelta(hours=1))
    treating_latest = world.slot(treating, base + timedelta(hours=20))

    results = _search(client, headers, commune="85222", radius_km=50, treating_rpps="12345678901")

    assert [r["slot"]["id"] for r in results] == [treating_latest.id, earliest_far.id, at_near_same_time.id,
                                                   at_far_same_time.id]
    assert [r["is_treating_doctor"] for r in results] == [True, False, False, False]
    first = results[0]
    assert first["practitioner"]["rpps"] == "12345678901"
    assert set(first["practitioner"]) == {"id", "rpps", "first_name", "last_name", "address", "commune_insee", "phone",
                                       "profession"}
    assert 16 < first["distance_km"] < 19  # Saint-Gilles → Challans, as the crow flies
    assert results[2]["distance_km"] < results[3]["distance_km"]


def test_radius_excludes_distant_slots_and_window_excludes_started_or_late_ones(client, world):
    cpts, headers = _area(world)
    near = world.practitioner(cpts, commune_insee="85226", lat=46.7206, lon=-1.9461)
    far = world.practitioner(cpts, commune_insee="85047", lat=46.8467, lon=-1.8781)
    kept = world.slot(near, utcnow() + timedelta(hours=1))
    world.slot(far, utcnow() + timedelta(hours=1))
    world.slot(near, utcnow() - timedelta(minutes=5))  # started: too late to send a patient
    world.slot(near, utcnow() + timedelta(hours=60))  # beyond the default 48 h
    world.slot(near, utcnow() + timedelta(hours=2), status="withdrawn")
    booked = world.slot(near, utcnow() + timedelta(hours=3))
    world.booking(booked)

    results = _search(client, headers, commune="85222", radius_km=10)

    assert [r["slot"]["id"] for r in results] == [kept.id]


def test_earlier_slots_beyond_the_radius_do_not_crowd_out_the_nearer_ones(client, world):
    # A doctor in a corner of the square around the commune (beyond the radius) with many earlier slots.
    cpts, headers = _area(world)
    corner = world.practitioner(cpts, lat=46.6975 + 0.08, lon=-1.9428 + 0.12)  # ~12.8 km away
    near = world.practitioner(cpts, commune_insee="85226", lat=46.7206, lon=-1.9461)
    treating = world.practitioner(cpts, rpps="12345678901", commune_insee="85047", lat=46.8467, lon=-1.8781)
    base = utcnow() + timedelta(hours=1)
    with world.batch():
        for i in range(30):
            world.slot(corner, base + timedelta(minutes=15 * i))
        wanted = [world.slot(near, base + timedelta(hours=9, minutes=15 * i)) for i in range(2)]
        treating_slot = world.slot(treating, base + timedelta(hours=20))

    results = _search(client, headers, commune="85222", radius_km=10, limit=3, treating_rpps="12345678901")

    assert [r["slot"]["id"] for r in results] == [treating_slot.id] + [slot.id for slot in wanted]
    assert all(r["distance_km"] <= 10 for r in results[1:])


def test_a_known_commune_without_slots_answers_no_results(client, world):
    _cpts, headers = _area(world)
    assert _search(client, headers, commune="85047", radius_km=5) == []


def test_the_commune_centre_is_the_callers_cpts_one(client, world):
    # INSEE codes are national, but two CPTS may place the same commune differently: the caller's wins.
    elsewhere = world.cpts(regulation_area="Loire", communes=(("85222", "Saint-Gilles (ailleurs)", 47.5, -0.5),))
    world.slot(world.practitioner(elsewhere, lat=47.5, lon=-0.5))
    cpts, headers = _area(world)
    mine = world.slot(world.practitioner(cpts, lat=46.6980, lon=-1.9430))

    results = _search(client, headers, commune="85222", radius_km=5)

    assert [r["slot"]["id"] for r in results] == [mine.id]
    assert results[0]["distance_km"] < 0.1


def test_window_limit_mode_and_coordinates(client, world):
    cpts, headers = _area(world)
    doctor = world.practitioner(cpts)
    start = utcnow() + timedelta(hours=50)
    slots = [world.slot(doctor, start + timedelta(minutes=20 * i), mode="teleconsultation" if i % 2 else "office")
             for i in range(5)]
    results = _search(client, headers, **{"from": start.isoformat(), "to": (start + timedelta(hours=2)).isoformat(),
                                          "lat": 46.7, "lon": -1.94, "mode": "teleconsultation", "limit": 1})
    assert [r["slot"]["id"] for r in results] == [slots[1].id]
    assert results[0]["slot"]["mode"] == "teleconsultation"


def test_regulator_searches_across_the_regulation_area_only(client, world):
    mine = world.cpts(regulation_area="Vendée")
    partner = world.cpts(regulation_area="Vendée")
    elsewhere = world.cpts(regulation_area="Loire")
    slots = {cpts.id: world.slot(world.practitioner(cpts)) for cpts in (mine, partner, elsewhere)}
    regulator = world.headers(world.user("regulator", mine))
    coordinator = world.headers(world.user("coordinator", mine))

    assert {r["slot"]["id"] for r in _search(client, regulator)} == {slots[mine.id].id, slots[partner.id].id}
    assert {r["slot"]["id"] for r in _search(client, coordinator)} == {slots[mine.id].id}


@pytest.mark.parametrize("no_area", [None, ""])
def test_a_cpts_without_regulation_area_shares_its_slots_with_nobody(client, world, no_area):
    mine, other = world.cpts(regulation_area=no_area), world.cpts(regulation_area=no_area)
    my_slot, other_slot = world.slot(world.practitioner(mine)), world.slot(world.practitioner(other))
    regulator = world.headers(world.user("regulator", mine))

    assert {r["slot"]["id"] for r in _search(client, regulator)} == {my_slot.id}
    booking = client.post("/api/v1/bookings", headers=regulator, json={
        "slot_id": other_slot.id, "channel": "116117",
        "patient": {"first_name": "Jeanne", "last_name": "Martin", "birth_date": "1950-02-03", "phone": "0612345678"}})
    assert booking.status_code == 404


def test_practitioners_without_coordinates(client, world):
    # Nobody knows where they practise: never "near" anything, but still the patient's own doctor.
    cpts, headers = _area(world)
    treating = world.slot(world.practitioner(cpts, rpps="12345678901", lat=None, lon=None))
    unplaced = world.slot(world.practitioner(cpts, lat=None, lon=None), utcnow() + timedelta(hours=3))

    near = _search(client, headers, commune="85222", treating_rpps="12345678901")
    anywhere = _search(client, headers)

    assert [(r["slot"]["id"], r["is_treating_doctor"], r["distance_km"]) for r in near] == [(treating.id, True, None)]
    assert [r["slot"]["id"] for r in anywhere] == [treating.id, unplaced.id]


def test_a_treating_doctor_outside_the_area_is_not_shown(client, world):
    cpts, headers = _area(world)
    elsewhere = world.cpts(regulation_area="Loire")
    world.slot(world.practitioner(elsewhere, rpps="12345678901"))
    mine = world.slot(world.practitioner(cpts))

    results = _search(client, headers, commune="85222", treating_rpps="12345678901")

    assert [(r["slot"]["id"], r["is_treating_doctor"]) for r in results] == [(mine.id, False)]


def test_gp_and_anonymous_cannot_search(client, world):
    cpts = world.cpts()
    assert client.get("/api/v1/slots/search").status_code == 401
    response = client.get("/api/v1/slots/search", headers=world.headers(world.gp(cpts)))
    assert response.status_code == 403


def test_bad_parameters_are_422_naming_the_field(client, world):
    _cpts, headers = _area(world)
    cases = [({"commune": "99999"}, "commune"), ({"commune": "abc"}, "commune"), ({"lat": 46.7}, "lon"),
             ({"radius_km": -3}, "radius_km"), ({"treating_rpps": "123"}, "treating_rpps"),
             ({"mode": "drone"}, "mode"), ({"limit": 0}, "limit"), ({"from": "2026-01-01T10:00:00"}, "from"),
             ({"to": (utcnow() - timedelta(hours=1)).isoformat()}, "to")]
    for params, field in cases:
        response = client.get("/api/v1/slots/search", query_string=params, headers=headers)
        assert response.status_code == 422, params
        assert field in response.get_json()["error"]["fields"], params


def test_the_answer_is_the_response_schema(client, world, monkeypatch):
    """What the OpenAPI document says is what the client gets: the schema cuts the answer to its fields."""
    from marshmallow import Schema

    from snp_service.slots import search
    from snp_service.api.schemas.search import SearchAnswerSchema

    cpts, headers = _area(world)
    world.slot(world.practitioner(cpts), utcnow() + timedelta(hours=2))
    plain = search._result
    monkeypatch.setattr(search, "_result", lambda row: plain(row) | {"internal": "not documented"})
    answer = client.get("/api/v1/slots/search", query_string={"commune": "85222"}, headers=headers).get_json()

    assert len(answer["results"]) == 1 and "internal" not in answer["results"][0]
    found = search.search_with_later({cpts.id}, {"commune": "85222"})
    assert answer == Schema.dump(SearchAnswerSchema(), found)  # marshmallow's own dump, field by field
