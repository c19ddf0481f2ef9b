"""A coordinator opens the supplement statement from the dashboard, picks a month, downloads its CSV and XLSX."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, login, screenshot
from .pages_world import pages_world

pytestmark = pytest.mark.browser


def test_coordinator_reads_the_supplement_statement_of_a_month_and_downloads_it(app, world, live_server, desktop_page):
    w = pages_world(world)
    page = desktop_page
    login(page, live_server, w.coordinator.email, PASSWORD)

    page.get_by_role("link", name="Relevé des majorations").click()
    expect(page.locator("h1")).to_have_text("Relevé des majorations SNP")
    page.fill("#month", "2025-07")
    page.get_by_role("button", name="Afficher le mois").click()
    expect(page.locator("#statement-period")).to_have_text("CPTS Littoral · juillet 2025")
    # July 2025 (pages_world): each of the 3 weeks, Durand one act earning and one booked 72 h ahead; but
    # Monday 14 July is a public holiday (PDSA): 2 earn, 4 do not.
    rows = page.locator("#statement-lines tbody tr")
    lines = {row.get_attribute("data-rpps"): row.locator("td").all_inner_texts() for row in rows.all()}
    durand = lines[w.gp.practitioner.rpps]
    assert durand == [f"Dr Alex Durand\nRPPS {w.gp.practitioner.rpps}", "2", "4", "30,00\xa0€"]
    total = page.locator("[data-figure=statement-total]").inner_text().replace("\xa0", " ").replace("\u202f", " ")
    assert total.startswith("Total : ")
    acts = page.locator(f"#actes-{w.gp.practitioner.rpps}")
    acts.locator("summary").click()
    reasons = acts.locator("tbody tr.excluded .reason").all_inner_texts()
    assert reasons.count("Rendez-vous plus de 48 h après la réservation") == 3
    assert reasons.count("Heures de permanence des soins (soir, week-end ou jour férié)") == 1
    assert acts.locator("tbody tr").first.locator("td.channel").inner_text() == "116 117"
    assert_no_horizontal_scroll(page)
    screenshot(page, "coordination-statement-month")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV (un acte par ligne)").click()
    text = csv_download.value.path().read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert table[0] == ["RPPS", "Nom", "Prénom", "N° de réservation", "Date", "Heure", "Canal", "Majoré",
                        "Motif d'exclusion"]
    assert {row[6] for row in table[1:]} == {"116 117"} and all(row[4].endswith("/07/2025") for row in table[1:])
    with page.expect_download() as summary_download:
        page.get_by_role("link", name="CSV (un praticien par ligne)").click()
    summary = list(csv.reader(io.StringIO(summary_download.value.path().read_bytes().decode("utf-8-sig"),
                                          newline=""), delimiter=";"))
    assert summary[0] == ["RPPS", "Nom", "Prénom", "Actes majorés", "Montant (€)"]
    amounts = {row[0]: float(row[4].replace(",", ".")) for row in summary[1:]}
    assert amounts[w.gp.practitioner.rpps] == 30.0
    assert amounts["Total"] == sum(v for k, v in amounts.items() if k != "Total")

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Classeur Excel").click()
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    sheet = workbook["Synthèse"]
    assert sheet["A1"].value == "Majorations SNP · CPTS Littoral · juillet 2025"
    assert [c.value for c in sheet[2]] == ["RPPS", "Nom", "Prénom", "Actes majorés", "Actes non majorés", "Montant (€)"]
    by_rpps = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    line = by_rpps[w.gp.practitioner.rpps]
    assert (line[1].value, line[2].value) == ("Durand", "Alex")
    assert line[5].data_type == "n" and line[5].value == 30 and "€" in line[5].number_format
    assert by_rpps["Total"][5].value == amounts["Total"]
    assert workbook["Détail des actes"].max_row == len(table)


def test_the_statement_page_on_a_phone(app, world, live_server, phone_page):
    w = pages_world(world)
    login(phone_page, live_server, w.coordinator.email, PASSWORD)
    phone_page.goto(f"{live_server}/coordination/supplements?season_id={w.seasons[0].id}")
    expect(phone_page.locator("#statement-period")).to_contain_text("Été 2025 (du 13/07/2025 au 02/08/2025)")
    phone_page.select_option("#season_id", label="Été 2026")
    phone_page.get_by_role("button", name="Afficher la saison").click()
    expect(phone_page.locator("#statement-period")).to_contain_text("Été 2026")
    assert_no_horizontal_scroll(phone_page)
    screenshot(phone_page, "coordination-statement-season-phone")
