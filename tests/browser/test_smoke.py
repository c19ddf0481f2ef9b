"""Each role logs in on a phone-sized screen and lands on its home page, in French."""
import pytest

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, login, screenshot

pytestmark = pytest.mark.browser

HOMES = {"gp": ("/gp", "Mes créneaux SNP"), "regulator": ("/regulation", "Console de régulation"),
         "coordinator": ("/coordination", "Tableau de bord")}


@pytest.mark.parametrize("role", sorted(HOMES))
def test_role_logs_in_and_sees_home(role, app, world, live_server, phone_page):
    cpts = world.cpts()
    user = world.gp(cpts) if role == "gp" else world.user(role, cpts)
    login(phone_page, live_server, user.email, PASSWORD)
    path, heading = HOMES[role]
    assert phone_page.url.endswith(path)
    assert heading in phone_page.inner_text("h1")
    assert phone_page.get_attribute("html", "lang") == "fr"
    assert_no_horizontal_scroll(phone_page)
    screenshot(phone_page, f"smoke-{role}-home")


def test_wrong_password_stays_on_login_in_french(app, world, live_server, phone_page):
    user = world.user("regulator", world.cpts())
    login(phone_page, live_server, user.email, "mauvais-mot-de-passe")
    assert "/login" in phone_page.url
    assert "incorrect" in phone_page.inner_text("[role=alert]")
