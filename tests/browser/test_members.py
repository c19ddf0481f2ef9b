"""Issue 26 in a browser (fr-FR, 1366 px): the coordinator runs the members and the territory; a regulator
finds a treating doctor who is no member in the national directory."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.directory.loading import load_extract
from snp_service.models import Practitioner, Slot

from ..directory_files import extract_text, person, rpps_number
from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser

SAINT_GILLES = ("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428)


def _directory(tmp_path):
    path = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    path.write_text(extract_text([
        person(1, last_name="GUILBAUD", first_name="Anaïs", profession="60", commune="85047", postal_code="85300",
               commune_name="Challans"),
        person(2, last_name="MORVAN", first_name="Paul", commune="85222"),
    ]), encoding="utf-8")
    load_extract("cli", str(path), ["85"])


def test_the_coordinator_adds_members_creates_an_account_extends_the_territory_and_removes_a_member(
        app, world, live_server, desktop_page, tmp_path):
    cpts = world.cpts("CPTS Littoral", communes=(SAINT_GILLES,))
    leaving = world.practitioner(cpts, first_name="Luc", last_name="Départ")
    slots = [world.slot(leaving, utcnow() + timedelta(days=d)) for d in (1, 2)]
    coordinator = world.user("coordinator", cpts, email="coordination@test.example")
    _directory(tmp_path)
    page = desktop_page
    login(page, live_server, coordinator.email, PASSWORD)

    # A nurse from the directory: one choice fills every field.
    page.get_by_role("link", name="Membres").click()
    expect(page.locator("h1")).to_have_text("Membres de la CPTS")
    assert axe_violations(page) == []
    page.fill("#q", "guilbaud")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("link", name="Choisir Anaïs GUILBAUD, Challans").click()
    expect(page.locator("#last_name")).to_have_value("GUILBAUD")
    expect(page.locator("#commune_insee")).to_have_value("85047")
    assert page.locator("#profession").input_value() == "nurse"
    assert axe_violations(page) == []
    screenshot(page, "members-from-directory")
    page.fill("#last_name", "Guilbaud")
    page.get_by_role("button", name="Ajouter le membre").click()
    expect(page.locator(".flash, [role=status], .success").first).to_contain_text("ajouté")

    # A GP by hand: refused once for a bad RPPS, the error next to the field, the field focused.
    page.goto(f"{live_server}/coordination/membres")
    page.get_by_role("link", name="Ajouter à la main").click()
    page.fill("#last_name", "Martin")
    page.fill("#first_name", "Hugo")
    bad = rpps_number(40)[:-1] + str((int(rpps_number(40)[-1]) + 1) % 10)
    page.fill("#rpps", bad)
    page.fill("#address", "3 rue du Port")
    page.select_option("#commune_insee", "85222")
    page.get_by_role("button", name="Ajouter le membre").click()
    expect(page.locator("#rpps-error")).to_contain_text("clé")
    assert page.evaluate("document.activeElement.id") == "rpps"
    expect(page.locator("#address")).to_have_value("3 rue du Port")
    assert axe_violations(page) == []
    screenshot(page, "members-bad-rpps")
    page.fill("#rpps", rpps_number(40))
    page.get_by_role("button", name="Ajouter le membre").click()

    # Then that GP's account, and its set-up link.
    page.fill("#email", "h.martin@example.fr")
    page.get_by_role("button", name="Créer son compte").click()
    link = page.locator("#setup-link").input_value()
    assert link.startswith(f"{live_server}/password-setup/")
    screenshot(page, "members-account-link")

    # A commune added to the territory.
    page.goto(f"{live_server}/coordination/cpts/{cpts.id}")
    page.fill("#commune_q", "Challans")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("button", name="Ajouter Challans (85047)").click()
    expect(page.locator("#territory-communes")).to_contain_text("Challans")
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "cpts-record-territory")

    # A member with future free slots removed after confirmation.
    page.goto(f"{live_server}/coordination/membres")
    page.get_by_role("link", name="Retirer Luc Départ de la CPTS").click()
    expect(page.locator("#free-slots")).to_contain_text("2 créneaux libres à venir")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Retirer et retirer ses créneaux").click()
    expect(page.locator("#members")).not_to_contain_text("Départ")
    expect(page.locator("#members")).to_contain_text("Guilbaud Anaïs")
    expect(page.locator("#members")).to_contain_text("Martin Hugo")
    assert_no_horizontal_scroll(page)
    screenshot(page, "members-list")
    db.session.expire_all()
    assert {db.session.get(Slot, s.id).status for s in slots} == {"withdrawn"}
    assert db.session.scalar(select(Practitioner.profession).where(Practitioner.rpps == rpps_number(1))) == "nurse"


def test_the_members_page_is_usable_on_a_phone(app, world, live_server, phone_page):
    cpts = world.cpts("CPTS Littoral", communes=(SAINT_GILLES,))
    world.practitioner(cpts, first_name="Anne", last_name="Fèvre-Lebrun")
    coordinator = world.user("coordinator", cpts, email="coordination@test.example")
    login(phone_page, live_server, coordinator.email, PASSWORD)
    phone_page.goto(f"{live_server}/coordination/membres")
    assert_no_horizontal_scroll(phone_page)
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "members-list-phone")


def test_the_regulator_finds_a_non_member_treating_doctor_in_the_combobox(app, world, live_server, desktop_page,
                                                                          tmp_path):
    cpts = world.cpts("CPTS Littoral", communes=(SAINT_GILLES,), regulation_area="Vendée")
    world.practitioner(cpts, first_name="Claire", last_name="Lefèvre")
    regulator = world.user("regulator", cpts, email="regulation@test.example")
    _directory(tmp_path)
    page = desktop_page
    login(page, live_server, regulator.email, PASSWORD)
    page.goto(f"{live_server}/regulation")
    page.focus("#treating_name")
    page.keyboard.type("morv")
    page.wait_for_selector("#treating-options:not([hidden]) [aria-selected=true]")
    option = page.inner_text("#treating-options [aria-selected=true]")
    assert "MORVAN" in option and "annuaire national" in option
    page.keyboard.press("Enter")
    assert page.input_value("#treating_rpps") == rpps_number(2)
    assert axe_violations(page) == []
    screenshot(page, "regulation-treating-from-directory")
