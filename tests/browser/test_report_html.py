"""The season report and the coordinator's dashboard in Chromium: printed to PDF (A4), screenshots, phone width."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today
from snp_service.models import Season, User
from tests.factories import PASSWORD

from .conftest import OUTPUT_DIR, assert_no_horizontal_scroll, login, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def summer(world):
    """Two summers of one GP: 2025 half filled (2 of 4 each week), 2026 fully filled; one slot tomorrow."""
    with world.batch():  # one commit, before the live server reads it
        cpts = world.cpts("CPTS Littoral", communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.69, -1.94),
                                                      ("85234", "Saint-Jean-de-Monts", 46.79, -2.06)))
        gp = world.practitioner(cpts, last_name="Durand")
        for year, filled_per_week in ((2025, 2), (2026, 4)):
            for week in range(3):
                for n in range(4):
                    slot = world.slot(gp, datetime(year, 7, 14 + 7 * week, 10 + n, 0, tzinfo=PARIS), status="expired")
                    if n < filled_per_week:
                        world.booking(slot)
        tomorrow = paris_today() + timedelta(days=1)
        world.slot(gp, datetime.combine(tomorrow, datetime.min.time().replace(hour=10), PARIS))
        seasons = [Season(cpts_id=cpts.id, name=f"Été {y}", start_date=date(y, 7, 13), end_date=date(y, 8, 2))
                   for y in (2025, 2026)]
        db.session.add_all(seasons)
        coordinator = world.user("coordinator", cpts, email="coordination@test.example")
    return {"cpts": cpts, "gp": gp, "seasons": seasons, "coordinator": coordinator}


def test_season_report_prints_to_a4_pdf(live_server, desktop_page, summer):
    page = desktop_page
    login(page, live_server, "coordination@test.example", PASSWORD)
    season = summer["seasons"][0]

    page.goto(f"{live_server}/api/v1/seasons/{season.id}/report?format=html")

    assert page.locator("h1").inner_text() == "Rapport de remplissage · Été 2025"
    assert page.locator(".figures div", has_text="Taux de remplissage").locator("dd").inner_text() == "50,0\xa0%"
    assert page.locator("svg").count() == 2
    assert page.locator("svg polyline").first.get_attribute("points").count(",") == 3  # weeks 29, 30, 31 (W28 empty)
    assert page.locator(".report-table tbody tr").first.inner_text().split("\t")[-1] == "50,0\xa0%"
    # ISO weeks read S29, S30, S31, and the last label is drawn inside the chart.
    labels = page.locator("svg").first.locator("text.axis")
    assert labels.all_text_contents()[-3:] == ["S29", "S30", "S31"]
    svg, last = page.locator("svg").first.bounding_box(), labels.last.bounding_box()
    assert last["x"] + last["width"] <= svg["x"] + svg["width"]
    OUTPUT_DIR.mkdir(exist_ok=True)
    pdf = OUTPUT_DIR / "season-report.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    boxes = {tuple(round(float(v)) for v in box) for box in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", content)}
    assert boxes == {(595, 842)}  # A4 in points
    assert 1 <= len(re.findall(rb"/Type\s*/Page(?!s)", content)) <= 2
    screenshot(page, "season-report")


def test_dashboard_and_comparison_on_a_phone(live_server, phone_page, summer):
    page = phone_page
    login(page, live_server, "coordination@test.example", PASSWORD)

    page.goto(f"{live_server}/coordination")
    assert "Tableau de bord" in page.locator("h1").inner_text()
    tomorrow = page.locator("section", has=page.locator("#tomorrow"))
    assert tomorrow.locator("tbody tr").all_inner_texts() == ["Saint-Gilles-Croix-de-Vie\t1", "Saint-Jean-de-Monts\t0"]
    assert page.locator("#season-so-far + p strong").inner_text() == "Été 2026"
    assert_no_horizontal_scroll(page)
    screenshot(page, "coordination-dashboard-phone")

    page.select_option("#compare-a", label="Été 2025")
    page.select_option("#compare-b", label="Été 2026")
    page.click("form[aria-label='Comparer deux saisons'] button")
    rows = page.locator(".report-table tbody tr")
    assert rows.filter(has_text="Taux de remplissage").inner_text().split("\t") == [
        "Taux de remplissage", "50,0\xa0%", "100,0\xa0%", "+50,0\xa0pts"]
    assert rows.filter(has_text="Créneaux offerts par jour").inner_text().split("\t")[1:] == ["0,57", "0,57", "0,00"]
    assert page.locator("svg polyline").count() == 2
    assert_no_horizontal_scroll(page)
    screenshot(page, "season-comparison-phone")


def test_coordinator_creates_a_season_and_manages_accounts(live_server, desktop_page, summer):
    page = desktop_page
    login(page, live_server, "coordination@test.example", PASSWORD)
    page.goto(f"{live_server}/coordination")

    page.fill("#name", "Hiver 2026")
    page.fill("#start_date", "2026-12-01")
    page.fill("#end_date", "2027-02-28")
    page.click("form[aria-label='Nouvelle saison'] button")
    assert page.locator(".flash-success").inner_text() == "Saison créée."
    assert db.session.query(Season).filter_by(name="Hiver 2026").one().end_date == date(2027, 2, 28)

    page.fill("#email", "regulation@test.example")
    page.fill("#password", "un-mot-de-passe-long")
    page.select_option("#role", "regulator")
    page.click("form[aria-label='Nouveau compte'] button")
    assert page.locator(".flash-success").inner_text() == "Compte créé."
    row = page.locator("#comptes tbody tr", has_text="regulation@test.example")
    # Deactivating asks first; "Retour" changes nothing.
    row.get_by_role("link", name="Désactiver").click()
    assert page.locator("h1").inner_text() == "Désactiver ce compte ?"
    assert "regulation@test.example" in page.locator("main").inner_text()
    page.get_by_role("link", name="Retour, ne rien changer").click()
    db.session.rollback()
    assert db.session.query(User).filter_by(email="regulation@test.example").one().active
    row = page.locator("#comptes tbody tr", has_text="regulation@test.example")
    row.get_by_role("link", name="Désactiver").click()
    page.get_by_role("button", name="Désactiver le compte").click()
    assert page.locator(".flash-success").inner_text() == "Compte désactivé."
    db.session.rollback()  # end the read snapshot taken before the server wrote
    regulator = db.session.query(User).filter_by(email="regulation@test.example").one()
    assert (regulator.role, regulator.active, regulator.cpts_ids) == ("regulator", False, [summer["cpts"].id])
    screenshot(page, "coordination-dashboard-desktop")
