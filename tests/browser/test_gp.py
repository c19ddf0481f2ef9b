"""A GP on a 390x844 phone opens a block of 4 slots tomorrow, sees them, withdraws one."""
import pytest

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, login, screenshot

pytestmark = pytest.mark.browser


def test_gp_opens_a_block_tomorrow_and_withdraws_a_slot(app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    assert "Mes créneaux SNP" in page.inner_text("h1")
    # Pre-filled: tomorrow 14:00-16:00 in 15-minute slots, previewed before saving.
    assert "8 créneaux" in page.inner_text("#block-preview")
    page.fill("#block-end", "15:00")
    assert page.inner_text("#block-preview").startswith("4 créneaux : 14:00, 14:15, 14:30, 14:45")
    assert page.inner_text("#block-submit") == "Publier 4 créneaux"
    page.click("#block-submit")
    page.wait_for_load_state("networkidle")
    assert "4 créneau(x) ouvert(s)" in page.inner_text("[role=status]")

    tomorrow = page.locator(".day").nth(1)
    assert tomorrow.locator("h3").inner_text().startswith("Demain")
    assert tomorrow.locator(".slot-time").all_inner_texts() == ["14:00 – 14:15", "14:15 – 14:30", "14:30 – 14:45",
                                                                 "14:45 – 15:00"]
    assert_no_horizontal_scroll(page)
    box = tomorrow.locator("button", has_text="Retirer").first.bounding_box()
    assert box["height"] >= 44
    screenshot(page, "gp-block-published")

    page.once("dialog", lambda dialog: dialog.accept())
    tomorrow.locator("li.slot").nth(1).locator("button", has_text="Retirer").click()
    page.wait_for_load_state("networkidle")
    assert "Créneau de 14:15 retiré" in page.inner_text("[role=status]")
    tomorrow = page.locator(".day").nth(1)
    assert tomorrow.locator(".slot-time").all_inner_texts() == ["14:00 – 14:15", "14:30 – 14:45", "14:45 – 15:00"]
    assert_no_horizontal_scroll(page)
    screenshot(page, "gp-slot-withdrawn")


def test_withdraw_asks_for_confirmation(app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    world.slot(gp.practitioner)
    login(phone_page, live_server, gp.email, PASSWORD)
    phone_page.once("dialog", lambda dialog: dialog.dismiss())
    phone_page.locator("button", has_text="Retirer").first.click()
    phone_page.wait_for_timeout(300)
    assert phone_page.locator("li.slot .status-free").count() == 1
