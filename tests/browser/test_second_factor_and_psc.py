"""Issue 25 in Chromium (fr-FR, Europe/Paris): the SAS link through the fake Pro Santé Connect, a GP's TOTP
enrolment and sign-ins (the test computes the codes with pyotp), the lockout and its unlock by the
coordinator. axe-core: no serious or critical violation on the new pages, at 390 and 1366 px."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from ..factories import PASSWORD
from ..fake_psc import FakePsc
from .conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser


def _no_axe_violation(page, name: str) -> None:
    for viewport, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        assert axe_violations(page) == [], (name, viewport)
        if viewport == "phone":
            assert_no_horizontal_scroll(page)
        screenshot(page, f"issue25-{name}-{viewport}")


@pytest.fixture
def psc(app, live_server):
    fake = FakePsc(redirect_uris=[f"{live_server}/auth/psc/callback"],
                   post_logout_redirect_uris=[f"{live_server}/login"]).start()
    app.config.update(fake.config())
    yield fake
    fake.stop()


def test_a_regulator_opens_the_sas_link_signs_in_at_psc_and_lands_on_the_agenda(app, world, live_server, psc,
                                                                                 desktop_page):
    from snp_service.core.extensions import db
    from snp_service.models import SasRegulatorIdentifier

    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts, last_name="Martin")
    regulator = world.user("regulator", cpts)
    world._save(SasRegulatorIdentifier(user_id=regulator.id, system="urn:oid:1.2.250.1.71.4.2.1",
                                       value="810002673899", type_code="IDNPS"))
    db.session.commit()
    page = desktop_page
    psc.next_person(rpps="10002673899")
    page.goto(f"{live_server}/regulation/praticien/{doctor.id}?origin=sas")  # what Slot.comment names
    page.wait_for_url(f"**/regulation/agenda?practitioner_id={doctor.id}&origin=sas")
    assert "Martin" in page.inner_text("h1")
    assert len(psc.calls("authorize")) == 1 and len(psc.calls("token")) == 1
    # Signing out ends the PSC session too, and comes back to our sign-in page, which offers PSC.
    page.click("nav form button[type=submit]")
    page.wait_for_url(f"{live_server}/login")
    assert len(psc.ended_sessions) == 1
    assert page.get_by_role("link", name="Se connecter avec Pro Santé Connect").is_visible()
    _no_axe_violation(page, "login-with-psc")
    # Someone PSC vouches for but this service does not know: the French refusal page says whom to ask.
    psc.next_person(rpps="19999999999")
    page.get_by_role("link", name="Se connecter avec Pro Santé Connect").click()
    page.wait_for_url("**/auth/psc/callback**")
    assert "coordinateur de votre CPTS" in page.inner_text("main")
    _no_axe_violation(page, "psc-refused")


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _sign_out(page) -> None:
    page.click("nav form button[type=submit]")
    page.wait_for_url("**/login")


def test_a_gp_enrols_a_second_factor_then_signs_in_with_it_and_with_a_recovery_code(app, world, live_server,
                                                                                    phone_page):
    gp = world.gp(world.cpts(), last_name="Durand")
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    page.get_by_role("link", name="Sécurité").click()
    page.wait_for_url("**/account/second-factor")
    assert page.locator(".qr svg").is_visible()
    _no_axe_violation(page, "second-factor-enrolment")
    secret = page.inner_text("[data-totp-secret]").replace(" ", "")
    page.fill("#code", _code(secret))
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-recovery-code]")
    codes = page.locator("[data-recovery-code]").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", c) for c in codes)
    _no_axe_violation(page, "recovery-codes")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name=re.compile("continuer")).click()
    page.wait_for_url("**/gp")
    _sign_out(page)

    login(page, live_server, gp.email, PASSWORD)
    page.wait_for_url("**/login/second-factor")
    _no_axe_violation(page, "second-factor-code")
    page.set_viewport_size(PHONE)
    page.fill("#code", _code(secret, 1))  # the next step: the enrolment spent the current one
    page.keyboard.press("Enter")
    page.wait_for_url("**/gp")
    _sign_out(page)

    login(page, live_server, gp.email, PASSWORD)
    page.wait_for_url("**/login/second-factor")
    page.fill("#code", codes[0])
    page.keyboard.press("Enter")
    page.wait_for_url("**/gp")
    _sign_out(page)
    login(page, live_server, gp.email, PASSWORD)
    page.fill("#code", codes[0])  # spent
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]")
    assert "Code incorrect" in page.inner_text("[role=alert]") and "/login/second-factor" in page.url


def test_the_lockout_and_its_unlock_by_the_coordinator(app, world, live_server, chromium):
    cpts = world.cpts()
    regulator = world.user("regulator", cpts, email="regulation@test.example")
    coordinator = world.user("coordinator", cpts, email="coordination@test.example")
    attacker = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris").new_page()
    for _ in range(10):
        login(attacker, live_server, regulator.email, "pas-le-bon-mot-de-passe")
    wrong = attacker.inner_text("[role=alert]")
    login(attacker, live_server, regulator.email, PASSWORD)  # locked: the right password reads as a wrong one
    assert attacker.inner_text("[role=alert]") == wrong and "/login" in attacker.url

    desk = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                has_touch=True).new_page()
    login(desk, live_server, coordinator.email, PASSWORD)
    desk.goto(f"{live_server}/coordination#comptes")
    assert "1 compte verrouillé" in desk.inner_text("#comptes")
    _no_axe_violation(desk, "coordination-locked-account")
    desk.set_viewport_size(PHONE)
    desk.get_by_role("button", name=f"Déverrouiller {regulator.email}").focus()
    desk.keyboard.press("Enter")
    desk.wait_for_selector("text=Compte déverrouillé.")
    assert "verrouillé" not in desk.inner_text("#comptes tbody")

    login(attacker, live_server, regulator.email, PASSWORD)
    attacker.wait_for_url("**/regulation")
    attacker.context.close()
    desk.context.close()
