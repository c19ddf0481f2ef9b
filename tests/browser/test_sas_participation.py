"""A GP shows their slots on the SAS platform from their phone: one tap on a 44 px target."""
from __future__ import annotations

import pytest

from snp_service.core.extensions import db
from snp_service.models import Practitioner

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser


def test_gp_switches_sas_participation_on_the_phone(app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    gp.practitioner.postal_code, gp.practitioner.practice_siret = "85800", "12345678900012"
    db.session.commit()
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    button = page.locator("#sas button[type=submit]")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert button.inner_text().strip() == "Apparaître sur le SAS"
    button.click()
    page.wait_for_load_state("networkidle")
    assert page.locator('#sas [data-sas-participation="on"]').count() == 1
    assert "visibles sur la plateforme SAS" in page.inner_text("body")
    with app.app_context():
        assert db.session.get(Practitioner, gp.practitioner_id).sas_participation is True
    assert_no_horizontal_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "gp-sas-participation")
