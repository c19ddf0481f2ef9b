"""Report files: CSV read back with csv, XLSX opened with openpyxl, through /reports/fill-rate; French headers."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from snp_service.core.timeutil import PARIS


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def lv(world):
    """Tuesday 14/07/2026: 3 offered, 2 filled (one SAS, one 116117); Wednesday 15: 1 offered, none filled."""
    cpts = world.cpts("CPTS LV")
    gp = world.practitioner(cpts, last_name="Durand")
    world.booking(world.slot(gp, paris(2026, 7, 14, 10, 0), status="expired"), channel="sas")
    world.booking(world.slot(gp, paris(2026, 7, 14, 10, 15), status="expired"))
    world.slot(gp, paris(2026, 7, 14, 10, 30), status="expired")
    world.slot(gp, paris(2026, 7, 15, 9, 0), status="expired")
    world.slot(gp, paris(2026, 7, 15, 9, 15), status="withdrawn")
    return {"cpts": cpts, "gp": gp, "coordinator": world.user("coordinator", cpts)}


def get(client, world, lv, query):
    url = f"/api/v1/reports/fill-rate?cpts_id={lv['cpts'].id}&from=2026-07-14&to=2026-07-16&{query}"
    return client.get(url, headers=world.headers(lv["coordinator"]))


def test_json_report_of_any_period(client, world, lv):
    answer = get(client, world, lv, "group_by=day")

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["group_by"] == "day"
    assert (body["summary"]["offered"], body["summary"]["filled"], body["summary"]["fill_rate"]) == (4, 2, 0.5)
    assert body["summary"]["avg_offered_per_day"] == 1.33  # 4 over 3 days
    assert body["breakdown"] == [
        {"key": "2026-07-14", "offered": 3, "filled": 2, "fill_rate": 0.6667},
        {"key": "2026-07-15", "offered": 1, "filled": 0, "fill_rate": 0.0},
        {"key": "2026-07-16", "offered": 0, "filled": 0, "fill_rate": None}]


def test_french_excel_csv(client, world, lv):
    answer = get(client, world, lv, "group_by=day&format=csv")

    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="taux-remplissage-2026-07-14-2026-07-16-day.csv"' in answer.headers["Content-Disposition"]
    raw = answer.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Jour", "Créneaux offerts", "Créneaux pourvus", "Taux de remplissage (%)"],
                    ["14/07/2026", "3", "2", "66,67"],
                    ["15/07/2026", "1", "0", "0"],
                    ["16/07/2026", "0", "0", ""]]


@pytest.mark.parametrize("group_by, header, first", [
    ("week", ["Semaine ISO"], ["2026-S29"]),
    ("weekday", ["Jour de la semaine"], ["mardi"]),
    ("hour", ["Heure"], ["09:00"]),
    ("commune", ["Code INSEE", "Commune"], ["85222", "Saint-Gilles-Croix-de-Vie"]),
    ("channel", ["Canal"], ["116 117", "4", "1", "25"]),
])
def test_every_grouping_has_french_headers_and_readable_keys(client, world, lv, group_by, header, first):
    rows = list(csv.reader(io.StringIO(get(client, world, lv, f"group_by={group_by}&format=csv")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == header + ["Créneaux offerts", "Créneaux pourvus", "Taux de remplissage (%)"]
    assert rows[1][:len(first)] == first


def test_international_csv_by_practitioner_names_the_practitioner_by_rpps(client, world, lv):
    answer = get(client, world, lv, "group_by=practitioner&format=csv&sep=,&decimal=point")

    rows = list(csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert rows == [{"RPPS": lv["gp"].rpps, "Praticien": "Dr Alex Durand", "Créneaux offerts": "4",
                     "Créneaux pourvus": "2", "Taux de remplissage (%)": "50"}]


def test_xlsx_has_a_summary_and_one_sheet_per_grouping_with_real_numbers(client, world, lv):
    answer = get(client, world, lv, "format=xlsx")

    assert answer.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(answer.get_data()))
    assert workbook.sheetnames == ["Synthèse", "Par jour", "Par semaine", "Par jour de semaine", "Par heure",
                                   "Par praticien", "Par commune", "Par canal", "Par profession"]
    summary = workbook["Synthèse"]
    values = {row[0].value: row[1] for row in summary.iter_rows(min_row=3)}
    assert values["Créneaux offerts"].value == 4 and isinstance(values["Créneaux offerts"].value, int)
    assert values["Taux de remplissage"].value == 0.5
    assert values["Taux de remplissage"].number_format == "0.0%"
    assert values["Réservations SAS"].value == 1 and values["Réservations 116 117"].value == 1
    assert values["Majorations SNP"].value == 0 and "€" in values["Majorations SNP"].number_format
    assert summary.freeze_panes == "A3" and summary.column_dimensions["A"].width == 42

    days = workbook["Par jour"]
    assert [c.value for c in days[1]] == ["Jour", "Offerts", "Pourvus", "Taux de remplissage"]
    first = days[2]
    assert first[0].value == datetime(2026, 7, 14) and first[0].number_format == "DD/MM/YYYY"
    assert (first[1].value, first[2].value, first[3].value) == (3, 2, 0.6667)
    assert first[3].number_format == "0.0%"
    assert days[4][3].value is None  # nothing offered on the 16th: no rate rather than 0 %
    assert days.freeze_panes == "A2"
    weeks = workbook["Par semaine"]
    assert [[c.value for c in row] for row in weeks.iter_rows(min_row=2)] == [["2026-S29", 4, 2, 0.5]]
    weekdays = workbook["Par jour de semaine"]
    assert [[c.value for c in row] for row in weekdays.iter_rows(min_row=2)] == [
        ["mardi", 3, 2, 0.6667], ["mercredi", 1, 0, 0.0]]
    practitioners = workbook["Par praticien"]
    assert [c.value for c in practitioners[1]] == ["RPPS", "Praticien", "Offerts", "Pourvus", "Taux de remplissage"]
    assert [c.value for c in practitioners[2]] == [lv["gp"].rpps, "Dr Alex Durand", 4, 2, 0.5]
    communes = workbook["Par commune"]
    assert [c.value for c in communes[2]][:2] == ["85222", "Saint-Gilles-Croix-de-Vie"]
    channels = workbook["Par canal"]  # each channel's bookings over every offered slot
    assert [[c.value for c in row] for row in channels.iter_rows()] == [
        ["Canal", "Offerts", "Pourvus", "Taux de remplissage"],
        ["116 117", 4, 1, 0.25], ["SAS", 4, 1, 0.25], ["Centre 15", 4, 0, 0.0], ["Autre", 4, 0, 0.0]]
    assert channels["D2"].number_format == "0.0%"


def test_bad_parameters_and_scope(client, world, lv):
    assert get(client, world, lv, "group_by=month").status_code == 422
    backwards = client.get(f"/api/v1/reports/fill-rate?cpts_id={lv['cpts'].id}&from=2026-07-16&to=2026-07-14",
                           headers=world.headers(lv["coordinator"]))
    assert backwards.status_code == 422 and backwards.get_json()["error"]["fields"] == {"to": ["must not be before from"]}
    too_long = client.get(f"/api/v1/reports/fill-rate?cpts_id={lv['cpts'].id}&from=2020-01-01&to=2026-01-01",
                          headers=world.headers(lv["coordinator"]))
    assert too_long.status_code == 422
    other = world.user("coordinator", world.cpts("CPTS voisine"))
    outsider = client.get(f"/api/v1/reports/fill-rate?cpts_id={lv['cpts'].id}&from=2026-07-14&to=2026-07-16",
                          headers=world.headers(other))
    assert outsider.status_code == 403
