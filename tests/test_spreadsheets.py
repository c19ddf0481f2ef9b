"""Files for spreadsheets: the one CSV writer and its formula guard, the statement in CSV and XLSX, bounded targets."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from decimal import Decimal

import openpyxl
import pytest
from openpyxl import Workbook

from snp_service.core.extensions import db
from snp_service.core.spreadsheets import append_row, csv_bytes, xlsx_bytes
from snp_service.supplements import ledger

from .factories import sign_in_form
from .supplement_helpers import act

INJECTIONS = ["=HYPERLINK(\"http://x\")", "+33 1 23", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def read_csv(raw: bytes, sep=";") -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=sep))


def test_csv_writer_neutralises_formulas_in_text_but_not_in_numbers():
    raw = csv_bytes(["=Titre", "Montant"], [[text, Decimal("-15.00")] for text in INJECTIONS] + [["Dupont", -3]])
    rows = read_csv(raw)
    assert rows[0] == ["'=Titre", "Montant"]
    assert [row[0] for row in rows[1:-1]] == ["'" + text for text in INJECTIONS]
    assert all(row[1] == "-15,00" for row in rows[1:-1])
    assert rows[-1] == ["Dupont", "-3"]


def test_csv_writer_types_values_for_french_and_international_spreadsheets():
    row = [date(2026, 7, 14), datetime(2026, 7, 14, 9, 5), 0.6667, Decimal("1149.50"), 1149, True, None, 12.0]
    assert read_csv(csv_bytes(["a"] * 8, [row]))[1] == [
        "14/07/2026", "14/07/2026 09:05", "0,6667", "1149,50", "1149", "oui", "", "12"]
    assert read_csv(csv_bytes(["a"] * 8, [row], sep=",", decimal="point"), sep=",")[1][2:4] == ["0.6667", "1149.50"]


def test_xlsx_cells_keep_formula_text_as_strings():
    workbook = Workbook()
    append_row(workbook.active, ["=1+1", "+1", 5, Decimal("15.00")])
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(workbook))).active
    cells = sheet[1]
    assert (cells[0].value, cells[0].data_type) == ("=1+1", "s")
    assert (cells[1].value, cells[1].data_type) == ("+1", "s")
    assert (cells[2].value, cells[3].value) == (5, 15.0)


@pytest.fixture
def july(world):
    """July 2020 at a CPTS: one eligible act and one by the treating doctor for =Durand, one PDSA act for Martin."""
    cpts = world.cpts("CPTS Littoral")
    durand = world.practitioner(cpts, last_name="=Durand")
    martin = world.practitioner(cpts, last_name="Martin")
    act(world, durand, "2020-07-20T10:00")
    act(world, durand, "2020-07-20T10:30", by_treating_doctor=True, channel="sas")
    act(world, martin, "2020-07-21T21:00", channel="15")
    ledger.accrue(today=date(2020, 7, 31))
    return {"cpts": cpts, "durand": durand, "martin": martin, "coordinator": world.user("coordinator", cpts)}


def statement_file(client, world, july, user, query: str):
    return client.get(f"/api/v1/supplements?cpts_id={july['cpts'].id}&month=2020-07&{query}", headers=world.headers(user))


def test_statement_csv_per_act_speaks_french(client, world, july):
    answer = statement_file(client, world, july, july["coordinator"], "format=csv&detail=1")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="majorations-snp-' in answer.headers["Content-Disposition"]
    rows = read_csv(answer.get_data())
    assert rows[0] == ["RPPS", "Nom", "Prénom", "N° de réservation", "Date", "Heure", "Canal", "Majoré",
                       "Motif d'exclusion"]
    by_time = {row[5]: row for row in rows[1:]}
    assert by_time["10:00"][1:3] == ["'=Durand", "Alex"] and by_time["10:00"][6:] == ["116 117", "oui", ""]
    assert by_time["10:30"][6:] == ["SAS", "non", "Le praticien est le médecin traitant du patient"]
    assert by_time["21:00"][6:] == ["Centre 15", "non", "Heures de permanence des soins (soir, week-end ou jour férié)"]


def test_statement_xlsx_has_rpps_names_and_amounts_as_numbers(client, world, july):
    answer = statement_file(client, world, july, july["coordinator"], "format=xlsx")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(answer.get_data()))
    assert workbook.sheetnames == ["Synthèse", "Détail des actes"]
    summary = workbook["Synthèse"]
    assert summary["A1"].value == "Majorations SNP · CPTS Littoral · juillet 2020"
    assert [c.value for c in summary[2]] == ["RPPS", "Nom", "Prénom", "Actes majorés", "Actes non majorés", "Montant (€)"]
    lines = {row[1].value: [c.value for c in row] for row in summary.iter_rows(min_row=3)}
    assert lines["=Durand"] == [july["durand"].rpps, "=Durand", "Alex", 1, 1, 15.0]
    assert summary["B3"].data_type == "s"  # the name stays text, never a formula
    assert lines["Martin"] == [july["martin"].rpps, "Martin", "Alex", 0, 1, 0.0]
    assert lines[None] == ["Total", None, None, 1, None, 15.0]
    assert "€" in summary.cell(row=3, column=6).number_format
    acts = workbook["Détail des actes"]
    assert [c.value for c in acts[1]][4:] == ["Date", "Heure", "Canal", "Majoré", "Motif d'exclusion"]
    first = [c.value for c in acts[2]]
    assert first[4] == datetime(2020, 7, 20) and first[5] == time(10, 0) and first[6:8] == ["116 117", "oui"]


def test_a_gp_file_holds_their_own_line_only(client, world, july):
    gp = world.user("gp", july["cpts"], july["martin"])
    workbook = openpyxl.load_workbook(io.BytesIO(statement_file(client, world, july, gp, "format=xlsx").get_data()))
    assert [row[1].value for row in workbook["Synthèse"].iter_rows(min_row=3)] == ["Martin", None]
    rows = read_csv(statement_file(client, world, july, gp, "format=csv").get_data())
    assert [row[1] for row in rows[1:]] == ["Martin", ""]


def test_season_statement_file_is_named_after_the_season(client, world, july):
    from snp_service.models import Season

    season = Season(cpts_id=july["cpts"].id, name="Été 2020", start_date=date(2020, 7, 13), end_date=date(2020, 9, 10))
    db.session.add(season)
    db.session.commit()
    answer = client.get(f"/api/v1/supplements?cpts_id={july['cpts'].id}&season_id={season.id}&format=xlsx",
                        headers=world.headers(july["coordinator"]))
    workbook = openpyxl.load_workbook(io.BytesIO(answer.get_data()))
    assert workbook["Synthèse"]["A1"].value == "Majorations SNP · CPTS Littoral · Été 2020"
    assert f"saison-{season.id}.xlsx" in answer.headers["Content-Disposition"]


@pytest.mark.parametrize("targets, field", [({"fill_rate": 1.5}, "fill_rate"), ({"no_show_rate": -0.1}, "no_show_rate"),
                                            ({"offered_slots": -1}, "offered_slots"),
                                            ({"bookings_by_channel": 3}, "bookings_by_channel")])
def test_targets_are_bounded_with_a_french_message(client, world, targets, field):
    cpts = world.cpts()
    answer = client.patch(f"/api/v1/cpts/{cpts.id}", json={"indicator_targets": targets},
                          headers=world.headers(world.user("coordinator", cpts)))
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["message"].startswith("Objectifs refusés : «") and list(error["fields"]) == [f"indicator_targets.{field}"]
    db.session.expire_all()
    assert not cpts.indicator_targets


def test_a_full_fill_rate_target_is_accepted_and_typed_the_french_way(client, world):
    cpts = world.cpts()
    coordinator = world.user("coordinator", cpts)
    assert client.patch(f"/api/v1/cpts/{cpts.id}", json={"indicator_targets": {"fill_rate": 1}},
                        headers=world.headers(coordinator)).status_code == 200
    token = sign_in_form(client, coordinator)
    answer = client.post(f"/coordination/cpts/{cpts.id}", data={"csrf_token": token, "fill_rate": "70,5",
                                                                "supplement_cents": "1 200,50"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert cpts.indicator_targets == {"fill_rate": 0.705, "supplement_cents": 120050}
    refused = client.post(f"/coordination/cpts/{cpts.id}", data={"csrf_token": token, "fill_rate": "soixante"})
    assert refused.status_code == 422 and "Saisissez un nombre" in refused.get_data(as_text=True)


def test_week_and_money_read_the_french_way(ctx):
    from snp_service import formatting

    assert formatting.week("2020-W29") == "S29" and formatting.iso_week("2020-W09") == "2020-S09"
    assert formatting.number(1149) == "1\u202f149" and formatting.number(1149.0, 1) == "1\u202f149,0"
    assert formatting.percent(0.5934) == "59,3\xa0%" and formatting.points(0.099) == "+9,9\xa0pts"
    assert formatting.euros(114900) == "1\u202f149,00\xa0€" and formatting.difference(-1500, "cents") == "-15,00\xa0€"
    assert formatting.difference(5) == "+5" and formatting.difference(0) == "0"
    assert formatting.channels({"116117": 582, "sas": 107, "15": 71, "other": 41}) == \
        "116\xa0117\xa0:\xa0582 · SAS\xa0:\xa0107 · Centre\xa015\xa0:\xa071 · Autre\xa0:\xa041"
    assert formatting.exclusion("weekly_cap") == "Plafond de 20 actes dans la semaine déjà atteint"


def test_the_openapi_document_lists_the_files_each_report_answers(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, extra in (("/api/v1/supplements", []), ("/api/v1/reports/fill-rate", []),
                        ("/api/v1/seasons/{season_id}/report", ["text/html"])):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert list(content) == ["application/json", "text/csv; charset=utf-8",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", *extra]
