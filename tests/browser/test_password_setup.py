"""On a phone, a coordinator gives a regulator a password set-up link; the regulator chooses a password with it
and signs in."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser


def test_a_coordinator_hands_a_link_and_the_regulator_sets_a_password(app, world, live_server, phone_page, chromium):
    cpts = world.cpts("CPTS Littoral")
    coordinator = world.user("coordinator", cpts, email="coordination@test.example")
    regulator = world.user("regulator", cpts, email="regulation@test.example")
    page = phone_page
    login(page, live_server, coordinator.email, PASSWORD)
    page.get_by_role("button", name=f"Lien de mot de passe pour {regulator.email}").click()
    expect(page.locator("h1")).to_have_text("Lien de mot de passe")
    link = page.locator("#setup-link").input_value()
    assert "/password-setup/" in link
    assert_no_horizontal_scroll(page)
    assert not axe_violations(page)
    screenshot(page, "password-link-issued")

    person = chromium.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR").new_page()
    person.goto(link)
    person.fill("#password", "court")
    person.fill("#confirm", "court")
    person.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(person.locator("#password-error")).to_contain_text("Mot de passe refusé")
    assert_no_horizontal_scroll(person)
    assert not axe_violations(person)
    screenshot(person, "password-setup-refused")
    person.fill("#password", "marée-haute-sur-le-port")
    person.fill("#confirm", "marée-haute-sur-le-port")
    person.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(person.locator(".flash-success")).to_have_text("Mot de passe enregistré : connectez-vous.")
    login(person, live_server, regulator.email, "marée-haute-sur-le-port")
    assert person.url.endswith("/regulation")
    person.context.close()
