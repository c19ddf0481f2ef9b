"""axe-core on every GP and coordinator page, at phone and desktop widths: no serious or critical violation;
every control of the GP page at least 44x44 px on a 390 px phone.

Each page is also saved as a screenshot at 390 px and 1366 px (test-output/page-*.png), to be looked at.
"""
from __future__ import annotations

import json

import pytest

from ..factories import PASSWORD
from .conftest import OUTPUT_DIR, axe_violations, login, screenshot
from .pages_world import pages_world

pytestmark = pytest.mark.browser


def coordinator_pages(w) -> dict[str, str]:
    a, b = (s.id for s in w.seasons)
    return {
        "coordination-dashboard": "/coordination",
        "coordination-supplements-month": f"/coordination/supplements?cpts_id={w.cpts.id}&month=2025-07",
        "coordination-supplements-season": f"/coordination/supplements?season_id={a}",
        "coordination-confirm-deactivate": f"/coordination/accounts/{w.regulator.id}/deactivate?cpts_id={w.cpts.id}",
        "coordination-season": f"/coordination/seasons/{a}",
        "coordination-compare": f"/coordination/seasons/compare?a={a}&b={b}",
        "coordination-cpts-record": f"/coordination/cpts/{w.cpts.id}?period=2025-07",
        "coordination-sms": "/coordination/sms",
        "coordination-season-printable": f"/api/v1/seasons/{a}/report?format=html",
    }


def _audit(page, base: str, pages: dict[str, str], figures: dict) -> None:
    width = page.viewport_size["width"]
    for name, path in pages.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        # Ready for a strict Content-Security-Policy: no inline script, style element or style attribute
        # (looked at before the screenshot, which leaves empty style attributes behind).
        inline = page.evaluate("""() => [...document.querySelectorAll('script:not([src]), style, [style]')]
            .map(e => e.outerHTML.slice(0, 80))""")
        assert not inline, f"{name}: {inline}"
        _open_all_details(page)
        screenshot(page, f"page-{name}-{width}")
        found = axe_violations(page)
        figures[f"{name}@{width}"] = {"count": sum(len(v["nodes"]) for v in found),
                                      "rules": {v["id"]: v["nodes"] for v in found}}


def _open_all_details(page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_load_state("networkidle")


def _report(figures: dict, name: str) -> None:
    OUTPUT_DIR.mkdir(exist_ok=True)
    (OUTPUT_DIR / f"axe-{name}.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    failing = {page: f for page, f in figures.items() if f["count"]}
    assert not failing, json.dumps(failing, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("role", ["gp", "coordinator"])
def test_each_roles_pages_have_no_serious_axe_violation(role, viewport, app, world, live_server, request):
    page = request.getfixturevalue(f"{viewport}_page")
    w = pages_world(world)
    account, pages = (w.gp, {"gp": "/gp"}) if role == "gp" else (w.coordinator, coordinator_pages(w))
    login(page, live_server, account.email, PASSWORD)
    figures: dict = {}
    _audit(page, live_server, pages, figures)
    _report(figures, f"{role}-{viewport}")


INTERACTIVE = ("a[href], button, input:not([type=hidden]), select, textarea, summary, "
               "[tabindex]:not([tabindex='-1']), [role=button], [role=link], [role=checkbox]")


def test_every_control_of_the_gp_page_is_at_least_44_px_on_a_phone(app, world, live_server, phone_page):
    w = pages_world(world)
    page = phone_page
    login(page, live_server, w.gp.email, PASSWORD)
    page.goto(f"{live_server}/gp?month=2025-07")
    _open_all_details(page)
    sizes = page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
        .map(e => { const r = e.getBoundingClientRect();
                    return {what: e.outerHTML.slice(0, 90), width: r.width, height: r.height}; })""", INTERACTIVE)
    assert len(sizes) > 40  # nav, forms, weekday chips, every withdraw button, the statement's month...
    small = [s for s in sizes if s["width"] < 44 or s["height"] < 44]
    assert not small, json.dumps(small, indent=1, ensure_ascii=False)
