"""Pages work under the Content-Security-Policy: Swagger UI from the service's own files, the coordination
page's CPTS picker without an inline handler (issue 15, item 7). Every browser test also fails on any
CSP refusal (``watch_content_security_policy`` in conftest)."""
import pytest

from ..factories import PASSWORD
from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_api_from_local_assets(app, live_server, desktop_page):
    hosts = set()
    desktop_page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    desktop_page.goto(f"{live_server}/api/v1/docs")
    desktop_page.wait_for_selector(".opblock", timeout=20_000)
    assert desktop_page.locator(".opblock").count() > 20  # every operation of the document
    assert "SNP service API" in desktop_page.inner_text(".info .title")
    assert hosts == {live_server.split("/")[2]}  # nothing from another host
    screenshot(desktop_page, "api-docs")


def test_the_cpts_picker_switches_cpts_without_inline_script(app, world, live_server, desktop_page):
    first, second = world.cpts(name="CPTS Alpha"), world.cpts(name="CPTS Beta")
    coordinator = world.user("coordinator", first)
    coordinator.cpts.append(second)
    from snp_service.core.extensions import db
    db.session.commit()
    login(desktop_page, live_server, coordinator.email, PASSWORD)
    desktop_page.select_option("#cpts_id", str(second.id))
    desktop_page.wait_for_url(f"**/coordination?cpts_id={second.id}")
    assert desktop_page.input_value("#cpts_id") == str(second.id)
