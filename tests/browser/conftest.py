"""Browser fixtures: the app served on 127.0.0.1 in a thread, Debian's Chromium driven by Playwright.

Screenshots go to ``test-output/`` at the repository root.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from snp_service.core.timeutil import paris_day_bounds, paris_today, utcnow

from ..conftest import need

CHROMIUM = os.environ.get("SNP_CHROMIUM", "/usr/bin/chromium")
# axe-core from npm (package.json; `make test` runs `npm install`), injected into pages by axe_violations().
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        need("Chromium not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("playwright for Python not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic", "--lang=fr-FR"],
            # A French user's browser: with chromium-l10n installed, date and time inputs read 28/03/2027 and 14:00.
            env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(chromium):
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                   has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = watch_content_security_policy(page)
    yield page
    context.close()
    assert not refused, f"the Content-Security-Policy refused: {refused}"


@pytest.fixture
def desktop_page(chromium):
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = watch_content_security_policy(page)
    yield page
    context.close()
    assert not refused, f"the Content-Security-Policy refused: {refused}"


def watch_content_security_policy(page) -> list[str]:
    """Every page a browser test opens is also checked against the CSP: whatever it refused
    (an inline script or style, an asset from another host) fails the test.

    Give ``page.wait_for_function`` a function (``"() => ..."``): a bare expression is evaluated
    as a string inside the page, which the policy (no 'unsafe-eval') refuses."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return refused


def started_today(ago: timedelta) -> datetime:
    """An instant ``ago`` before now that is still today in Paris (the day's 00:00 just after midnight): a
    booking that has started today, whatever the hour the suite runs at."""
    return max(utcnow() - ago, paris_day_bounds(paris_today())[0])


def screenshot(page, name: str) -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls horizontally by {overflow}px"


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in ``page`` and return its violations of the given impacts.

    The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    does not govern (an injected <script> tag would be refused, as it should be).
    """
    if not AXE_JS.exists():
        need("axe-core not installed (npm install, from package.json)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))""")
    return [v for v in violations if v["impact"] in impacts]


def type_patient_and_book(page) -> None:
    """In the open booking dialog, type a patient (name, first name, birth date, phone, Tab between) and book."""
    for text in ("Durand", "Jeanne", "02041950", "0612345678"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
