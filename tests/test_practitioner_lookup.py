"""The treating-doctor look-up: a regulator finds a caller's doctor by name across the regulation area."""
from __future__ import annotations


def _lookup(client, headers, **params):
    return client.get("/api/v1/practitioners/lookup", query_string=params, headers=headers)


def _area(world):
    lv = world.cpts(regulation_area="Vendée", communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),))
    lvo = world.cpts(regulation_area="Vendée", communes=(("85047", "Challans", 46.8467, -1.8781),))
    elsewhere = world.cpts(regulation_area="Loire")
    claire = world.practitioner(lvo, first_name="Claire", last_name="Lefèvre", rpps="10100000017", commune_insee="85047")
    world.practitioner(lv, first_name="Luc", last_name="Lefort")
    world.practitioner(lv, first_name="Anne", last_name="Fèvre-Lebrun")
    world.practitioner(elsewhere, first_name="Claude", last_name="Lefèvre")
    return lv, lvo, claire


def test_regulator_finds_the_doctor_by_name_without_accents_across_the_area(client, world):
    lv, _lvo, claire = _area(world)
    headers = world.headers(world.user("regulator", lv))

    response = _lookup(client, headers, q="LEFEVRE")

    assert response.status_code == 200
    assert response.get_json()["results"] == [{"id": claire.id, "rpps": "10100000017", "first_name": "Claire",
                                               "last_name": "Lefèvre", "commune_name": "Challans",
                                                   "member": True}]
    # Words in any order, each the start of a word of the name; last names starting so come first.
    names = [r["last_name"] for r in _lookup(client, headers, q="le").get_json()["results"]]
    assert names == ["Lefèvre", "Lefort", "Fèvre-Lebrun"]
    assert [r["first_name"] for r in _lookup(client, headers, q="claire lef").get_json()["results"]] == ["Claire"]
    assert [r["last_name"] for r in _lookup(client, headers, q="1010000001").get_json()["results"]] == ["Lefèvre"]
    assert len(_lookup(client, headers, q="le", limit=1).get_json()["results"]) == 1


def test_a_coordinator_sees_only_their_own_cpts_and_a_gp_not_at_all(client, world):
    lv, _lvo, _claire = _area(world)
    coordinator = world.headers(world.user("coordinator", lv))
    assert _lookup(client, coordinator, q="lefevre").get_json()["results"] == []
    assert [r["last_name"] for r in _lookup(client, coordinator, q="lef").get_json()["results"]] == ["Lefort"]
    assert _lookup(client, world.headers(world.gp(lv)), q="lef").status_code == 403
    assert _lookup(client, {}, q="lef").status_code == 401


def test_query_and_limit_are_bounded(client, world):
    lv, _lvo, _claire = _area(world)
    headers = world.headers(world.user("regulator", lv))
    for params, field in (({}, "q"), ({"q": "a"}, "q"), ({"q": "x" * 51}, "q"), ({"q": "lef", "limit": 0}, "limit"),
                          ({"q": "lef", "limit": 21}, "limit"), ({"q": "lef", "limit": "abc"}, "limit")):
        response = _lookup(client, headers, **params)
        assert response.status_code == 422, params
        assert field in response.get_json()["error"]["fields"], params
    assert _lookup(client, headers, q="%_").get_json()["results"] == []
    assert _lookup(client, headers, q="  ").get_json()["results"] == []
