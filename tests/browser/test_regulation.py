"""A regulator with callers on the line, keyboard only: book, read back, next caller, cancel, move.

The keystrokes from the first patient field to the confirmation are counted: navigation keys
(Tab, arrows, Enter, Escape) and characters typed into fields, and printed (issue 13: 19
navigation keystrokes before, at most 10 wanted).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import to_paris, utcnow
from snp_service.models import Booking

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461),
            ("85047", "Challans", 46.8467, -1.8781))
SMALL_DESKTOP = {"width": 1366, "height": 768}


class Keys:
    """The keyboard, counting what the regulator presses: navigation keys apart from characters typed."""
    NAVIGATION = {"Tab", "Shift+Tab", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", "Escape",
                  "Home", "End", "PageUp", "PageDown"}

    def __init__(self, page):
        self.page, self.navigation, self.typed = page, 0, 0

    def press(self, key: str, times: int = 1) -> None:
        assert key in self.NAVIGATION, key
        for _ in range(times):
            self.page.keyboard.press(key)
            self.navigation += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=10)
        self.typed += len(text)


@pytest.fixture
def small_desktop(chromium):
    context = chromium.new_context(viewport=SMALL_DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def area(world):
    """Two CPTS of one regulation area; the caller's treating doctor practises in the neighbour's Challans."""
    with world.batch():  # one commit, before the live server reads it
        lv = world.cpts(regulation_area="Vendée", communes=COMMUNES[:2])
        lvo = world.cpts(regulation_area="Vendée", communes=COMMUNES[2:])
        treating = world.practitioner(lvo, first_name="Claire", last_name="Lefèvre", rpps="10100000017",
                                      commune_insee="85047", lat=46.8467, lon=-1.8781)
        treating_slot = world.slot(treating, utcnow() + timedelta(hours=5))
        world.slot(treating, utcnow() + timedelta(hours=7))
        others = []
        for n in range(12):
            gp = world.practitioner(lv, first_name="Paul", last_name=f"Dupont{n:02d}")
            others.append(world.slot(gp, utcnow() + timedelta(hours=1, minutes=15 * n)))
        regulator = world.user("regulator", lv)
    return {"treating": treating, "treating_slot": treating_slot, "others": others, "regulator": regulator,
            "treating_day": to_paris(treating_slot.start_at).date().isoformat()}


def _open_console(page, live_server, user):
    login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server}/regulation")
    page.wait_for_selector("#results-empty:not([hidden])")


def _type_caller(keys: Keys, last: str, first: str, birth: str, phone: str, commune: str, reason: str) -> None:
    for text in (last, first, birth, phone, commune, reason):
        keys.type(text)
        keys.press("Tab")


def _visible_options(page) -> int:
    return page.evaluate("""() => {
        const list = document.getElementById('results').getBoundingClientRect();
        return [...document.querySelectorAll('#results [role=option]')].filter((li) => {
            const r = li.getBoundingClientRect();
            return r.top >= list.top - 1 && r.bottom <= Math.min(list.bottom, innerHeight) + 1;
        }).length; }""")


def test_keyboard_only_call_books_the_treating_doctor_then_serves_the_next_caller(app, area, live_server, small_desktop):
    page = small_desktop
    _open_console(page, live_server, area["regulator"])
    assert page.evaluate("document.activeElement.id") == "last_name"
    keys = Keys(page)

    _type_caller(keys, "Durand", "Jeanne", "02041950", "06 12 34 56 78", "Saint-Gi", "Fièvre")
    assert page.evaluate("document.activeElement.id") == "treating_name"
    keys.type("lefev")
    page.wait_for_selector("#treating-options:not([hidden]) [aria-selected=true]")
    assert "Dr Claire Lefèvre" in page.inner_text("#treating-options [aria-selected=true]")
    keys.press("Enter")  # keeps the highlighted doctor
    assert page.input_value("#treating_rpps") == "10100000017"
    assert page.is_checked('input[name="has_treating_doctor"][value="yes"]')
    keys.press("Enter")  # searches, focus on the best slot
    page.wait_for_function("() => document.activeElement.id === 'results'")
    best = page.inner_text('#results [aria-selected="true"]')
    assert "Dr Claire Lefèvre" in best and "Challans" in best and "Médecin traitant" in best
    assert page.get_attribute("#results", "aria-activedescendant") == "result-0"
    assert _visible_options(page) >= 8
    screenshot(page, "regulation-console-results-1366")
    keys.press("Enter")  # books

    confirmation = page.wait_for_selector("#confirmation:not([hidden])")
    print(f"\nKEYSTROKES first field -> confirmation: navigation={keys.navigation} typed={keys.typed} "
          f"total={keys.navigation + keys.typed}")
    assert keys.navigation <= 10
    text = confirmation.inner_text()
    assert "Rendez-vous confirmé" in text and "Dr Claire Lefèvre" in text and "Challans" in text
    assert "Jeanne Durand" in text
    assert page.evaluate("document.activeElement.id") == "confirmation"
    with app.app_context():
        booking = db.session.query(Booking).one()
        assert booking.slot_id == area["treating_slot"].id and booking.by_treating_doctor
        assert booking.patient.birth_date == date(1950, 4, 2) and booking.patient.phone == "+33612345678"
        assert booking.patient.commune_insee == "85222" and booking.reason == "Fièvre"
        assert booking.patient.treating_rpps == "10100000017" and booking.has_treating_doctor == "yes"
    # The list shows the booking's day, whichever it is (at 19:00, a slot five hours ahead is tomorrow's).
    page.wait_for_selector(f'#bookings tr[data-booking="{booking.id}"]')
    assert page.input_value("#bookings-day") == area["treating_day"]
    screenshot(page, "regulation-console-confirmed-1366")

    # The next caller: a blank screen, nothing of the first one but their line in today's bookings.
    keys.press("Enter")
    assert page.evaluate("document.activeElement.id") == "last_name"
    assert page.is_hidden("#confirmation")
    for field in ("last_name", "first_name", "birth_date", "phone", "commune", "reason", "treating_name", "treating_rpps"):
        assert page.input_value(f"#{field}") == "", field
    second = Keys(page)
    _type_caller(second, "Martin", "Paul", "15/06/1981", "0699887766", "Saint-Hi", "Toux")
    second.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    form_text, results_text = page.inner_text("#patient-form"), page.inner_text(".results-card")
    for trace in ("Durand", "Jeanne", "Lefèvre", "10100000017"):
        assert trace not in form_text, trace
    for trace in ("Durand", "Jeanne", "Médecin traitant", "confirmé", "vient d'être pris"):
        assert trace not in results_text, trace
    assert "Durand" in page.inner_text("#bookings")
    second.press("Enter")
    page.wait_for_selector("#confirmation:not([hidden])")
    assert "Paul Martin" in page.inner_text("#confirmation")
    print(f"KEYSTROKES second caller (no treating doctor): navigation={second.navigation} typed={second.typed}")
    assert_no_horizontal_scroll(page)


def test_cancel_asks_who_offers_retour_then_confirms(app, area, live_server, small_desktop, world):
    booking = world.booking(area["others"][0], first_name="Jeanne", last_name="Durand")
    page = small_desktop
    _open_console(page, live_server, area["regulator"])
    page.wait_for_selector(f'tr[data-booking="{booking.id}"]')
    for _ in range(40):  # keyboard only: Tab to the booking's row, then A opens the cancel dialog
        if page.evaluate("document.activeElement.matches('tr[data-booking]')"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.booking") == str(booking.id)
    page.keyboard.press("a")

    dialog = page.wait_for_selector("#cancel-dialog[open]")
    assert "Qui demande l'annulation ?" in dialog.inner_text() and "Jeanne Durand" in dialog.inner_text()
    assert page.evaluate("document.activeElement.textContent").startswith("Retour")
    assert [b.strip() for b in page.locator("#cancel-dialog button").all_inner_texts()] == [
        "Le patient", "La régulation", "Retour (ne rien changer)"]
    assert axe_violations(page) == []
    screenshot(page, "regulation-cancel-dialog-1366")
    page.keyboard.press("Enter")  # Retour
    page.wait_for_selector("#cancel-dialog:not([open])", state="attached")
    with app.app_context():
        assert db.session.get(Booking, booking.id).status == "booked"
    assert page.is_visible(f'tr[data-booking="{booking.id}"]') and page.is_hidden("#bookings-message")

    assert page.evaluate("document.activeElement.closest('tr').dataset.booking") == str(booking.id)
    page.keyboard.press("a")
    page.wait_for_selector("#cancel-dialog[open]")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "Le patient"
    page.keyboard.press("Enter")
    message = page.wait_for_selector("#bookings-message:not([hidden])")
    assert "annulé à la demande du patient" in message.inner_text()
    page.wait_for_selector(f'tr[data-booking="{booking.id}"]', state="detached")
    with app.app_context():
        cancelled = db.session.get(Booking, booking.id)
        assert cancelled.status == "cancelled" and cancelled.cancelled_by == "patient"


def test_move_searches_with_the_patients_commune_and_treating_doctor(app, area, live_server, small_desktop, world):
    booking = world.booking(area["others"][3])
    booking.patient.commune_insee, booking.patient.treating_rpps = "85047", "10100000017"
    booking.patient.has_treating_doctor = "yes"
    db.session.commit()
    page = small_desktop
    _open_console(page, live_server, area["regulator"])
    page.click(f'tr[data-booking="{booking.id}"] >> text=Déplacer')
    page.wait_for_function("() => document.activeElement.id === 'results'")
    assert "Déplacement" in page.inner_text("#move-banner")
    best = page.inner_text('#results [aria-selected="true"]')
    assert "Dr Claire Lefèvre" in best and "Médecin traitant" in best
    page.keyboard.press("Enter")
    confirmation = page.wait_for_selector("#confirmation:not([hidden])")
    assert "Rendez-vous déplacé" in confirmation.inner_text()
    with app.app_context():
        moved = db.session.query(Booking).filter_by(status="booked").one()
        assert moved.slot_id == area["treating_slot"].id
    # The list turns to the moved booking's day (tomorrow's in the evening), focus on its row: never the body.
    page.wait_for_function("() => document.activeElement.matches('#bookings tr[data-booking]')")
    assert page.evaluate("document.activeElement.dataset.booking") == str(moved.id)
    assert page.input_value("#bookings-day") == area["treating_day"]
    page.click("#next-call")  # next caller: the move is forgotten
    assert page.is_hidden("#confirmation") and page.is_hidden("#move-banner")
    assert "déplacé" not in page.inner_text(".results-card")


def test_errors_are_french_next_to_each_field_and_long_names_wrap(app, area, live_server, small_desktop):
    page = small_desktop
    _open_console(page, live_server, area["regulator"])
    page.keyboard.press("Enter")  # an empty form still searches
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")  # booking an empty caller: refused next to each field
    page.wait_for_selector("#last_name[aria-invalid=true]")
    assert page.evaluate("document.activeElement.id") == "last_name"
    assert page.inner_text("#last_name-error") == "Nom obligatoire."
    assert page.inner_text("#first_name-error") == "Prénom obligatoire."
    assert page.inner_text("#birth_date-error") == "Date de naissance obligatoire."
    assert page.inner_text("#phone-error") == "Téléphone obligatoire."
    assert "Invalid" not in page.inner_text("body")
    assert axe_violations(page) == []
    screenshot(page, "regulation-console-errors-1366")

    long_name = "A" * 120
    page.fill("#last_name", "")
    page.keyboard.type(long_name[:100] + "B")
    assert page.input_value("#last_name") == long_name[:100]
    assert page.inner_text("#last_name-count") == "100 / 100"
    assert page.is_hidden("#last_name-error")  # typing clears the field's error
    page.fill("#first_name", "Jeanne")
    page.fill("#birth_date", "31/02/1950")
    page.fill("#phone", "12")
    page.press("#phone", "Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#birth_date[aria-invalid=true]")
    assert page.inner_text("#birth_date-error") == "Cette date n'existe pas."
    assert page.inner_text("#phone-error").startswith("Numéro invalide")
    assert page.evaluate("document.activeElement.id") == "birth_date"
    page.fill("#birth_date", "02/04/1950")
    page.fill("#phone", "0000000000")  # looks like a number; the service knows better
    page.press("#phone", "Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#phone[aria-invalid=true]")
    assert page.inner_text("#phone-error") == "Numéro de téléphone invalide."
    assert page.evaluate("document.activeElement.id") == "phone"
    assert "Invalid" not in page.inner_text("body") and "phone" not in page.inner_text("#form-message")
    page.fill("#phone", "0612345678")
    page.press("#phone", "Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirmation:not([hidden])")
    page.wait_for_selector("#bookings tr")
    assert_no_horizontal_scroll(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_DESKTOP["width"]


def test_the_race_loser_reads_why_next_to_the_list_with_alternatives(app, area, live_server, small_desktop, world):
    page = small_desktop
    _open_console(page, live_server, area["regulator"])
    for selector, value in (("#last_name", "Durand"), ("#first_name", "Jeanne"), ("#birth_date", "02/04/1950"),
                            ("#phone", "0612345678")):
        page.fill(selector, value)
    page.press("#phone", "Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    world.booking(area["others"][0])  # another regulator takes the best slot meanwhile
    page.keyboard.press("Enter")

    message = page.wait_for_selector("#results-message:not([hidden])")
    assert "vient d'être pris" in message.inner_text()
    assert page.evaluate("document.getElementById('results-message').closest('.results-card') !== null")
    assert page.evaluate("document.activeElement.id") == "results"
    assert page.locator("#results [role=option]").count() >= 1
    assert "Dupont00" not in page.inner_text("#results")


@pytest.mark.parametrize("width", [390, 1366])
def test_console_has_no_serious_accessibility_violation(app, area, live_server, chromium, width):
    context = chromium.new_context(viewport={"width": width, "height": 844 if width == 390 else 768}, locale="fr-FR",
                                   timezone_id="Europe/Paris", is_mobile=width == 390, has_touch=width == 390)
    page = context.new_page()
    try:
        _open_console(page, live_server, area["regulator"])
        assert axe_violations(page) == []
        page.fill("#last_name", "Durand")
        page.focus("#treating_name")
        page.keyboard.type("lef")
        page.wait_for_selector("#treating-options:not([hidden])")
        assert axe_violations(page) == []
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.wait_for_selector("#results [role=option]")
        assert axe_violations(page) == []
        assert_no_horizontal_scroll(page)
        screenshot(page, f"regulation-console-{width}")
        for selector, value in (("#first_name", "Jeanne"), ("#birth_date", "02/04/1950"), ("#phone", "0612345678")):
            page.fill(selector, value)
        page.press("#phone", "Enter")
        page.wait_for_function("() => document.activeElement.id === 'results'")
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirmation:not([hidden])")
        page.wait_for_selector("#bookings tr button.danger")
        assert axe_violations(page) == []
        assert_no_horizontal_scroll(page)
        screenshot(page, f"regulation-console-confirmed-{width}")
        page.click("#bookings tr button.danger")
        page.wait_for_selector("#cancel-dialog[open]")
        assert axe_violations(page) == []
        screenshot(page, f"regulation-cancel-dialog-{width}")
    finally:
        context.close()
