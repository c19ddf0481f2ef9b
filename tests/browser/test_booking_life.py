"""A booking's whole life in the browser (issue 24): the console's bookings of any day and the grid's booked
cells, keyboard only for the regulator; the patient's own link at 390 px. Keystrokes are counted and printed."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from snp_service.bookings import booking as bookings
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today, utcnow
from snp_service.models import Booking, OutboxMessage, Slot

from ..factories import PASSWORD, World
from .conftest import PHONE, assert_no_horizontal_scroll, axe_violations, login, screenshot

pytestmark = pytest.mark.browser

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),)
LINK = re.compile(r"http://127\.0\.0\.1:5000(/r/[A-Za-z0-9_-]+)")


@pytest.fixture
def area(world):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    martin = world.practitioner(cpts, first_name="Marc", last_name="Martin")
    martin.phone, martin.address = "+33698765432", "12 rue du Port, Saint-Gilles"
    bernard = world.practitioner(cpts, first_name="Claire", last_name="Bernard")
    db.session.commit()
    return {"cpts": cpts, "martin": martin, "bernard": bernard,
            "regulators": [world.user("regulator", cpts), world.user("regulator", cpts)]}


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), PARIS)


def _book(area, slot, first_name="Jeanne", last_name="Durand", notify=True) -> Booking:
    booked, _ = bookings.book(area["regulators"][0], {
        "slot_id": slot.id, "channel": "116117", "reason": None, "notify_patient": notify,
        "patient": {"first_name": first_name, "last_name": last_name, "birth_date": datetime(1950, 4, 2).date(),
                    "phone": "06 12 34 56 78", "commune_insee": "85222", "has_treating_doctor": "no",
                    "treating_rpps": None}})
    return booked


def _presses(page, keys: list[str]) -> int:
    for key in keys:
        page.keyboard.press(key)
    return len(keys)


def test_the_regulator_cancels_a_booking_of_the_day_after_tomorrow_from_the_console(app, area, live_server,
                                                                                    small_desktop_page):
    day = paris_today() + timedelta(days=2)
    first = _book(area, World().slot(area["martin"], _at(day, 10)), "Jeanne", "Durand")
    second = _book(area, World().slot(area["bernard"], _at(day, 11)), "Paul", "Morel")
    page = small_desktop_page
    login(page, live_server, area["regulators"][0].email, PASSWORD)
    page.goto(f"{live_server}/regulation")
    page.wait_for_selector("#bookings-empty:not([hidden]), #bookings tr")

    # From the call's first field, "Rendez-vous ↓" is one Shift+Tab away: Enter puts the focus on today's list.
    page.wait_for_function("() => document.activeElement.id === 'last_name'")
    to_list = _presses(page, ["Shift+Tab", "Enter"])
    page.wait_for_function("() => document.activeElement.id === 'bookings-empty'")  # nothing today: its line
    page.focus("#last_name")
    # Keyboard only: to the day's "next" button, twice Enter: the day after tomorrow.
    tabs = 0
    while not page.evaluate("document.activeElement.id === 'bookings-next'") and tabs < 60:
        page.keyboard.press("Tab")
        tabs += 1
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'tr[data-booking="{first.id}"]')
    assert page.input_value("#bookings-day") == day.isoformat()
    assert axe_violations(page) == []
    # To the first row (the filter, then the list), then A: the cancel dialog.
    to_row = 0
    while not page.evaluate("document.activeElement.matches('tr[data-booking]')") and to_row < 10:
        page.keyboard.press("Tab")
        to_row += 1
    assert page.evaluate("document.activeElement.dataset.booking") == str(first.id)
    row_to_dialog = _presses(page, ["a"])
    dialog = page.wait_for_selector("#cancel-dialog[open]")
    assert "Jeanne Durand" in dialog.inner_text()
    assert axe_violations(page) == []
    # "Le patient" is two Shift+Tab from "Retour".
    _presses(page, ["Shift+Tab", "Shift+Tab", "Enter"])
    page.wait_for_selector(f'tr[data-booking="{first.id}"]', state="detached")
    # Focus on the next row, never the page's body.
    page.wait_for_function("() => document.activeElement.matches('tr[data-booking]')")
    assert page.evaluate("document.activeElement.dataset.booking") == str(second.id)
    screenshot(page, "booking-life-console-day-after-tomorrow-1366")
    with app.app_context():
        cancelled = db.session.get(Booking, first.id)
        assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "patient")
    print(f"\nKEYSTROKES console: call form -> bookings list: {to_list} (Shift+Tab, Enter); Tab x{tabs} to 'Jour suivant', Enter x2 to the day after tomorrow, "
          f"Tab x{to_row} to the first row; row -> cancel dialog: {row_to_dialog} (A)")

    # The filter: by phone, over 14 days, minimal display.
    page.fill("#bookings-filter", "78")
    page.fill("#bookings-filter", "5678")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#bookings tr[data-booking]')].length === 1 && "
        "document.querySelector('#bookings').innerText.includes('Morel P.')")
    assert "Paul" not in page.inner_text("#bookings")


def test_the_regulator_moves_a_booking_from_the_grid_by_keyboard(app, area, live_server, small_desktop_page):
    day = paris_today() + timedelta(days=2)
    booked_slot = World().slot(area["martin"], _at(day, 10))
    target = World().slot(area["martin"], _at(day, 10, 30))
    booking = _book(area, booked_slot)
    page = small_desktop_page
    login(page, live_server, area["regulators"][0].email, PASSWORD)
    page.goto(f"{live_server}/regulation/agenda?day={day.isoformat()}")
    page.wait_for_selector("#planning td.slot")
    page.focus(f'td[data-slot="{booked_slot.id}"]')  # the cursor on the booked cell (reached by arrows in use)
    cell_to_move = _presses(page, ["Enter"])
    dialog = page.wait_for_selector("#booking-dialog[open]")
    assert "Jeanne Durand" in dialog.inner_text()
    assert page.evaluate("document.activeElement.dataset.action") == "move"
    assert axe_violations(page) == []
    screenshot(page, "booking-life-grid-booking-dialog-1366")
    cell_to_move += _presses(page, ["Enter"])
    page.wait_for_selector("#move-banner:not([hidden])")
    # Down to the 10:30 slot (rows of 15 minutes: two rows), then Enter moves it there.
    arrows = 0
    while page.evaluate("document.activeElement.dataset.slot") != str(target.id) and arrows < 6:
        page.keyboard.press("ArrowDown")
        arrows += 1
    _presses(page, ["Enter"])
    page.wait_for_selector("#move-banner", state="hidden")
    page.wait_for_function(f"() => document.activeElement.dataset && document.activeElement.dataset.slot === '{target.id}'")
    with app.app_context():
        moved = db.session.scalar(select(Booking).where(Booking.status == "booked"))
        assert moved.slot_id == target.id and moved.replaces_booking_id == booking.id
    print(f"\nKEYSTROKES grid: booked cell -> move mode: {cell_to_move} (Enter, Enter); "
          f"then ArrowDown x{arrows} and Enter on the new slot")


def _patient_link(app, booking_id: int) -> str:
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.booking_id == booking_id, OutboxMessage.recipient == "patient")).all()
    return next(LINK.search(b).group(1) for b in bodies if b and LINK.search(b))


def test_the_patients_link_at_390_cancels_and_another_regulators_grid_sees_it_free(app, area, live_server, chromium):
    day = paris_today() + timedelta(days=1)
    slot = World().slot(area["martin"], _at(day, 9))
    booking = _book(area, slot)
    path = _patient_link(app, booking.id)
    regulator = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR", timezone_id="Europe/Paris")
    patient = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                   has_touch=True)
    try:
        grid = regulator.new_page()
        login(grid, live_server, area["regulators"][1].email, PASSWORD)
        grid.goto(f"{live_server}/regulation/agenda?day={day.isoformat()}")
        grid.wait_for_selector(f'td[data-slot="{slot.id}"].slot-booked')

        phone = patient.new_page()
        phone.goto(f"{live_server}{path}")
        assert "Votre rendez-vous" in phone.inner_text("h1") and "Dr Marc Martin" in phone.inner_text("main")
        assert "Durand" not in phone.content() and "Jeanne" not in phone.content()
        assert axe_violations(phone) == []
        assert_no_horizontal_scroll(phone)
        screenshot(phone, "booking-life-patient-link-390")
        phone.click("text=Annuler mon rendez-vous")
        phone.wait_for_selector("text=Annuler ce rendez-vous ?")
        assert axe_violations(phone) == []
        screenshot(phone, "booking-life-patient-link-cancel-step-390")
        phone.click("text=Oui, annuler mon rendez-vous")
        phone.wait_for_selector("text=Rendez-vous annulé. Besoin d'un médecin ? Appelez le")
        assert axe_violations(phone) == []
        grid.wait_for_selector(f'td[data-slot="{slot.id}"].slot-free', timeout=5_000)  # within 5 s
    finally:
        regulator.close()
        patient.close()


def test_the_patients_confirm_at_390_shows_confirme_on_the_gp_page(app, area, live_server, chromium, world):
    slot = World().slot(area["martin"], utcnow() + timedelta(minutes=90))  # within the reminder's lead
    booking = _book(area, slot)
    path = _patient_link(app, booking.id)
    gp = world.user("gp", area["cpts"], area["martin"])
    patient = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                   has_touch=True)
    doctor = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                  has_touch=True)
    try:
        phone = patient.new_page()
        phone.goto(f"{live_server}{path}")
        phone.click("text=Je confirme ma venue")
        phone.wait_for_selector("text=Merci : votre venue est confirmée.")
        assert axe_violations(phone) == []
        page = doctor.new_page()
        login(page, live_server, gp.email, PASSWORD)
        page.goto(f"{live_server}/gp")
        # In the day's bookings and in the agenda, or in the agenda alone when the slot is tomorrow's (late evening).
        confirmed = page.locator(f'li[data-booking-id="{booking.id}"] .status-confirmed')
        assert confirmed.all_inner_texts() in (["confirmé"], ["confirmé", "confirmé"])
        assert page.locator(f'li.slot[data-booking-id="{booking.id}"] .status-confirmed').inner_text() == "confirmé"
        screenshot(page, "booking-life-gp-confirme-390")
    finally:
        patient.close()
        doctor.close()


@pytest.fixture
def small_desktop_page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_20_minute_block_and_a_7_minute_slot_keep_15_minute_rows(app, area, live_server, small_desktop_page):
    day = paris_today() + timedelta(days=1)
    for n in range(6):  # Dr Martin's block of 20-minute slots, 09:00-11:00
        World().slot(area["martin"], _at(day, 9) + timedelta(minutes=20 * n), minutes=20)
    odd = World().slot(area["bernard"], _at(day, 9, 56), minutes=7)
    quarter = World().slot(area["bernard"], _at(day, 10, 30))
    page = small_desktop_page
    login(page, live_server, area["regulators"][0].email, PASSWORD)
    page.goto(f"{live_server}/regulation/agenda?day={day.isoformat()}")
    page.wait_for_selector("#planning td.slot")

    # 08:45 (a row before the first slot) to 11:15 (a row after the last): 10 rows of 15 minutes.
    times = page.locator("#planning tbody th.time").all_inner_texts()
    assert len(times) == 10 and times[0].startswith("08:45") and times[1].startswith("09:00") and times[2].startswith(":15")
    row = page.locator("#planning tbody tr:not(.day-row)").first.bounding_box()["height"]
    block = page.locator(f'td[data-slot="{odd.id}"] .slot-block').first.bounding_box()
    twenty = page.locator("#planning td.slot .slot-block").first.bounding_box()
    fifteen = page.locator(f'td[data-slot="{quarter.id}"] .slot-block').first.bounding_box()
    assert abs(twenty["height"] - row * 20 / 15) <= 2  # 1⅓ rows
    assert abs(fifteen["height"] - row) <= 2 and abs(block["height"] - row * 7 / 15) <= 2
    assert axe_violations(page) == []
    screenshot(page, "booking-life-grid-20-and-7-minute-slots-15-minute-rows-1366")
    page.select_option("#agenda-step", "5")
    page.wait_for_function("() => document.querySelectorAll('#planning tbody th.time').length === 26")  # 08:55-11:05


def test_25_columns_from_8_to_20_read_within_two_screens_on_1366x768(app, world, live_server, small_desktop_page):
    """Issue 24: a CPTS of 25 columns from 08:00 to 20:00 in 15-minute rows, on 1366x768, one practitioner's
    20-minute block included: the grid's rows take at most two screens of scrolling."""
    with world.batch():  # one commit, before the live server reads it
        cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
        day = paris_today() + timedelta(days=1)
        for n in range(25):
            gp = world.practitioner(cpts, last_name=f"Médecin{n:02d}")
            World().slot(gp, _at(day, 8), minutes=15)
            World().slot(gp, _at(day, 19, 45), minutes=15)
        World().slot(gp, _at(day, 12), minutes=20)
        regulator = world.user("regulator", cpts)
    page = small_desktop_page
    login(page, live_server, regulator.email, PASSWORD)
    page.goto(f"{live_server}/regulation/agenda?day={day.isoformat()}")
    page.wait_for_selector("#planning td.slot")
    rows = page.locator("#planning tbody th.time").count()
    scroller = page.evaluate("() => { const s = document.getElementById('grid-scroll'); "
                             "return [s.scrollHeight, s.clientHeight, window.innerHeight, document.documentElement.scrollHeight]; }")
    page_screens = scroller[3] / scroller[2]
    inner_screens = scroller[0] / max(scroller[1], 1)
    print(f"\nGRID 25 columns 08:00-20:00: {rows} rows of 15 min; grid {scroller[0]} px in a {scroller[1]} px box "
          f"({inner_screens:.2f} screens); page {scroller[3]} px for a {scroller[2]} px window ({page_screens:.2f})")
    screenshot(page, "booking-life-grid-25-columns-8-to-20-1366x768")
    assert rows == 50  # 07:45-20:15: the slots' hours and a row's margin
    rows_box = page.evaluate("() => document.getElementById('grid-scroll').clientHeight - "
                             "document.querySelector('#planning thead').offsetHeight")
    rows_height = page.evaluate("() => [...document.querySelectorAll('#planning tbody tr')].reduce((h, r) => h + r.offsetHeight, 0)")
    scrolled = (scroller[0] - scroller[1]) / scroller[1]
    print(f"GRID rows: {rows_height} px under the sticky headers' {rows_box} px ({rows_height / rows_box:.2f} screens of "
          f"rows); scrolling top to bottom: {scrolled:.2f} screens")
    assert scrolled <= 2  # "within two screens of scrolling"
