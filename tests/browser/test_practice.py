"""The practice space and the help, as a new regulator meets them (Chromium, fr-FR, Europe/Paris), keyboard only.

A regulator who never signed in is offered the tour and goes through it; the shortcuts overlay opens with ? and
closes with Escape, focus back where it was; in the practice space the nine scripted callers are handled with the
keyboard and each scorecard is read (printed: the closing note quotes them; the ninth books the first of the
"Prochains créneaux disponibles"); the coordinator then sees that practice
on the dashboard. axe-core: no serious or critical violation on the practice pages, the overlay, the tour and /aide.
Screenshots at 1366 and 390 px in test-output/, and the /aide pages' pictures in web/static/help/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..factories import PASSWORD, World
from ..practice_world import build_area
from .conftest import DESKTOP, OUTPUT_DIR, PHONE, assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser
HELP_PICTURES = Path(__file__).resolve().parents[2] / "snp_service" / "web" / "static" / "help"


def _no_axe(page, where: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{where}: {found}"


def _focused(page) -> str:
    return page.evaluate("() => document.activeElement.id")


def _tab_to(page, predicate: str, limit: int = 80, key: str = "Tab") -> None:
    for _ in range(limit):
        if page.evaluate(f"() => {predicate}"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {predicate}")


def _find_booking(page, last_name: str) -> None:
    """Keyboard only: Tab to the bookings' filter, type the caller's name, Tab to its row (focused)."""
    _tab_to(page, "document.activeElement.id === 'bookings-filter'")
    page.keyboard.press("Control+a")
    page.keyboard.type(last_name, delay=5)
    page.wait_for_function("(name) => [...document.querySelectorAll('#bookings tr[data-booking]')]"
                           ".some((row) => row.textContent.includes(name))", arg=last_name)
    _tab_to(page, "document.activeElement.matches('tr[data-booking]') && "
                  f"document.activeElement.textContent.includes('{last_name}')")


def _press_focused_button(page) -> None:
    """Enter on the button the page focuses (autofocus), once the page has focused it."""
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('button[autofocus]')")
    page.keyboard.press("Enter")


def _type_caller(page, last, first, birth, phone, commune, reason) -> None:
    page.wait_for_function("() => document.activeElement.id === 'last_name'")
    for text in (last, first, birth, phone, commune, reason):
        page.keyboard.type(text, delay=5)
        page.keyboard.press("Tab")


def _choose_treating(page, name: str) -> None:
    page.keyboard.type(name, delay=5)
    page.wait_for_selector("#treating-options:not([hidden]) [aria-selected=true]")
    page.keyboard.press("Enter")  # keeps the doctor


def _search_and_book(page) -> None:
    page.keyboard.press("Enter")  # searches, focus on the best slot
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")  # books


def _scorecard(page) -> dict:
    page.wait_for_selector("#practice-scorecard:not([hidden]) #scorecard-why:not(:empty)")
    figures = dict(zip(page.locator("#scorecard-figures dt").all_inner_texts(),
                       page.locator("#scorecard-figures dd").all_inner_texts()))
    card = {"caller": page.inner_text("#practice-card-title"), "why": page.inner_text("#scorecard-why"), **figures}
    print(f"\nSCORECARD {card}")
    return card


def _book_first_later_slot(page) -> None:
    """Scenario 9 up to the list: the caller typed, Enter; nothing in the window, the later slots follow their
    heading and the first of them is the one chosen (Enter then books it)."""
    _type_caller(page, "Lopez", "Nadia", "01011981", "0667890123", "Saint-Gi", "Éruption")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    assert "Aucun créneau libre dans la période" in page.inner_text("#results-empty")
    assert page.is_visible("#later-title") and page.is_visible("#request-slot")  # the request offered too
    assert page.get_attribute("#results", "aria-activedescendant") == page.evaluate(
        "() => document.querySelector('#later-title + [role=option]').id")


def _next_caller(page) -> None:
    page.wait_for_function("() => document.activeElement.id === 'practice-next'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#practice-card")


def test_a_new_regulator_takes_the_tour_practises_nine_callers_and_the_coordinator_sees_it(app, live_server, chromium,
                                                                                             tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    with app.app_context():
        area = build_area(World())
        regulator, coordinator, gp = area.regulator.email, area.coordinator.email, area.gp.email
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)

    # The tour, offered at the first sign-in, without taking the first field's focus.
    login(page, live_server, regulator, PASSWORD)
    page.wait_for_selector("#tour-offer")
    assert _focused(page) == "last_name"
    _no_axe(page, "console with the tour offer")
    _tab_to(page, "document.activeElement.id === 'tour-start'", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tour-box:not([hidden])")
    assert _focused(page) == "tour-box" and "(1 / 5)" in page.inner_text("#tour-count")
    _no_axe(page, "tour step")
    screenshot(page, "practice-tour-1366")
    for step in range(2, 6):
        page.keyboard.press("Enter")
        assert f"({step} / 5)" in page.inner_text("#tour-count")
    with page.expect_response("**/aide/visite"):
        page.keyboard.press("Enter")  # "Terminer": remembered for the account
    page.wait_for_selector("#tour-box", state="hidden")
    page.reload()
    page.wait_for_selector("#results-empty:not([hidden])")
    assert page.locator("#tour-offer").count() == 0  # not shown again

    # The shortcuts overlay: ? outside a field, Escape closes it, focus back.
    _tab_to(page, "document.activeElement.id === 'help-button'", key="Shift+Tab")
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    assert "Réserver le créneau libre sous le curseur" in page.inner_text("#help-dialog")
    _no_axe(page, "shortcuts overlay")
    screenshot(page, "practice-help-overlay-1366")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog:not([open])", state="attached")
    assert _focused(page) == "help-button"
    page.screenshot(path=str(HELP_PICTURES / "console.png"))

    # The practice space: enter, then the nine callers, keyboard only.
    page.goto(f"{live_server}/regulation/entrainement")
    _no_axe(page, "practice entry")
    _press_focused_button(page)  # "Commencer l'entraînement"
    page.wait_for_selector(".practice-band")
    assert page.title().startswith("Entraînement – ")
    _no_axe(page, "practice scenario list")
    _press_focused_button(page)  # scenario 1
    page.wait_for_selector("#practice-card")
    assert page.title().startswith("Entraînement – Régulation")
    _no_axe(page, "practice console")
    screenshot(page, "practice-console-1366")
    page.screenshot(path=str(HELP_PICTURES / "practice.png"))
    cards = []

    # 1. The treating doctor has a slot.
    _type_caller(page, "Morel", "Léa", "12031992", "0612345678", "Saint-Gi", "Fièvre")
    _choose_treating(page, "Bonnet")
    _search_and_book(page)
    cards.append(_scorecard(page))
    assert "non envoyé (entraînement)" in page.inner_text("#practice-sms")
    _no_axe(page, "scorecard")
    screenshot(page, "practice-scorecard-1366")
    _next_caller(page)

    # 2. The treating doctor has none: the first proposed.
    _type_caller(page, "Lambert", "Hugo", "02071975", "0623456789", "Saint-Gi", "Dos")
    _choose_treating(page, "Bonnet")
    _search_and_book(page)
    cards.append(_scorecard(page))
    _next_caller(page)

    # 3. No treating doctor.
    _type_caller(page, "Fabre", "Inès", "20011999", "0634567890", "Saint-Hi", "Otite")
    _search_and_book(page)
    cards.append(_scorecard(page))
    _next_caller(page)

    # 4. From outside the area: nothing booked, F8.
    page.wait_for_function("() => document.activeElement.id === 'last_name'")
    page.keyboard.type("Benali", delay=5)
    page.keyboard.press("F8")
    cards.append(_scorecard(page))
    _next_caller(page)

    # 5. A home visit: the mode "Visite", then the first one.
    _type_caller(page, "Blanc", "Odette", "05051938", "0645678901", "Saint-Gi", "Toux")
    _tab_to(page, "document.activeElement.id === 'mode'")
    page.keyboard.type("v")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")
    cards.append(_scorecard(page))
    _next_caller(page)

    # 6. The slot is taken by another regulator meanwhile: the console offers others, Enter books one.
    _type_caller(page, "Carré", "Yves", "14091964", "0656789012", "Saint-Gi", "Coupure")
    _choose_treating(page, "Bonnet")
    _search_and_book(page)
    page.wait_for_selector("#results-message:not([hidden])")
    assert "vient d'être pris" in page.inner_text("#results-message")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")
    cards.append(_scorecard(page))
    _next_caller(page)

    # 7. A patient calls back to cancel (tomorrow's booking: found by name in the bookings' filter, A on its row).
    _find_booking(page, "Girard")
    page.keyboard.press("a")
    page.wait_for_selector("#cancel-dialog[open]")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Le patient"
    cards.append(_scorecard(page))
    _next_caller(page)

    # 8. Move a patient to a later slot (not before the time the card gives).
    not_before = re.search(r"avant (\d{2})h(\d{2})", page.inner_text("#practice-caller")).groups()
    _find_booking(page, "Roux")
    page.keyboard.press("d")  # "Déplacer"
    page.wait_for_function("() => document.activeElement.id === 'results'")
    later = page.evaluate("""([hour, minute]) => [...document.querySelectorAll('#results [role=option]')].findIndex((li) => {
        const day = li.querySelector('.r-day').textContent, time = li.querySelector('.r-when strong').textContent;
        return !day.includes("aujourd") || time >= `${hour}:${minute}`; })""", list(not_before))
    assert later >= 0
    for _ in range(later):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    cards.append(_scorecard(page))
    _next_caller(page)

    # 9. Nothing free in 48 h, the caller can wait: the first of "Prochains créneaux disponibles", Enter.
    assert "je peux attendre quelques jours" in page.inner_text("#practice-caller")
    _book_first_later_slot(page)
    screenshot(page, "practice-later-slots-1366")
    page.keyboard.press("Enter")  # books the first later slot
    cards.append(_scorecard(page))
    assert "Prochains créneaux disponibles" in cards[-1]["why"]
    _no_axe(page, "scorecard of scenario 9")
    screenshot(page, "practice-scorecard-9-1366")
    assert page.locator("#practice-next-form").is_hidden()  # the last one: the summary follows

    assert [c["Résultat"] for c in cards] == ["Réussi"] * 9, cards
    page.goto(f"{live_server}/regulation/entrainement")
    assert "9 réussi(s) sur 9" in page.inner_text("#practice-summary")
    _no_axe(page, "practice summary")
    screenshot(page, "practice-summary-1366")
    context.close()

    # The phone width: the practice console and the help page stay usable.
    phone = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                 has_touch=True, device_scale_factor=2)
    small = phone.new_page()
    login(small, live_server, regulator, PASSWORD)
    small.goto(f"{live_server}/regulation/entrainement")
    _press_focused_button(small)  # "Commencer l'entraînement"
    small.wait_for_selector(".practice-band")
    _press_focused_button(small)  # scenario 1
    small.wait_for_selector("#practice-card")
    assert_no_horizontal_scroll(small)
    _no_axe(small, "practice console at 390 px")
    screenshot(small, "practice-console-390")
    # The console's "Nouvel appel" ends the call without booking too: scenario 1's scorecard says what was missed.
    _tab_to(small, "document.activeElement.id === 'new-call'", key="Shift+Tab")
    small.keyboard.press("Enter")
    missed = _scorecard(small)
    assert missed["Résultat"] == "À revoir" and missed["why"].startswith("Aucun rendez-vous réservé")
    small.goto(f"{live_server}/regulation/entrainement")  # scenario 9 at the phone width
    _tab_to(small, "document.activeElement.textContent.startsWith('9. ')")
    small.keyboard.press("Enter")
    small.wait_for_selector("#practice-card")
    _book_first_later_slot(small)
    assert_no_horizontal_scroll(small)
    screenshot(small, "practice-later-slots-390")
    small.locator(".results-card").screenshot(path=str(OUTPUT_DIR / "practice-later-slots-390-list.png"))
    _no_axe(small, "later slots at 390 px")
    small.keyboard.press("Enter")
    assert _scorecard(small)["Résultat"] == "Réussi"
    assert_no_horizontal_scroll(small)  # the SMS's link included
    screenshot(small, "practice-scorecard-9-390")
    small.locator("#practice-card").screenshot(path=str(OUTPUT_DIR / "practice-scorecard-9-390-card.png"))
    _no_axe(small, "scorecard of scenario 9 at 390 px")
    small.goto(f"{live_server}/regulation/agenda")
    small.wait_for_selector("#planning td")
    assert small.is_visible(".practice-band") and small.title().startswith("Entraînement – Agenda partagé")
    _no_axe(small, "practice grid at 390 px")
    screenshot(small, "practice-grid-390")
    for page_name in ("regulation", "medecin", "coordination"):
        small.goto(f"{live_server}/aide/{page_name}")
        assert_no_horizontal_scroll(small)
        _no_axe(small, f"/aide/{page_name} at 390 px")
        screenshot(small, f"aide-{page_name}-390")
    phone.close()

    # The coordinator sees that practice on the dashboard.
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    board = context.new_page()
    login(board, live_server, coordinator, PASSWORD)
    board.goto(f"{live_server}/coordination")
    row = board.locator("#practice-table tr", has_text=regulator).inner_text()
    assert "9 / 9" in row and "jamais" not in row
    print(f"\nDASHBOARD {row}")
    board.locator("#practice-title").scroll_into_view_if_needed()
    screenshot(board, "practice-dashboard-1366")
    board.screenshot(path=str(HELP_PICTURES / "dashboard.png"))
    for page_name in ("", "/regulation", "/medecin", "/coordination"):
        board.goto(f"{live_server}/aide{page_name}")
        _no_axe(board, f"/aide{page_name}")
        screenshot(board, f"aide{page_name.replace('/', '-')}-1366")
    context.close()

    # The grid in practice at desktop width (an ordinary agenda: scenario 1), for the regulator's help page.
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    grid = context.new_page()
    login(grid, live_server, regulator, PASSWORD)
    grid.goto(f"{live_server}/regulation/entrainement")
    _press_focused_button(grid)
    grid.wait_for_selector(".practice-band")
    _press_focused_button(grid)
    grid.wait_for_selector("#practice-card")
    grid.goto(f"{live_server}/regulation/agenda")
    grid.wait_for_selector("#planning td")
    _no_axe(grid, "practice grid")
    screenshot(grid, "practice-grid-1366")
    grid.screenshot(path=str(HELP_PICTURES / "grid.png"))
    context.close()

    # The GP's page, for the GP's help page.
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = context.new_page()
    login(doctor, live_server, gp, PASSWORD)
    doctor.wait_for_selector("#tour-offer")
    doctor.screenshot(path=str(HELP_PICTURES / "gp.png"))
    context.close()
