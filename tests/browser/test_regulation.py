"""A regulator with a caller on the line: fill the form, pick a slot with the keyboard, book, read back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from snp_service.extensions import db
from snp_service.models import Booking, Slot
from snp_service.timeutil import utcnow

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, login, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def area(world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts, last_name="Martin")
    other = world.practitioner(cpts, last_name="Bernard")
    first = world.slot(doctor, utcnow() + timedelta(hours=2))
    world.slot(other, utcnow() + timedelta(hours=3))
    return {"cpts": cpts, "doctor": doctor, "first": first, "regulator": world.user("regulator", cpts)}


def _fill_patient(page):
    page.fill("#last_name", "Durand")
    page.fill("#first_name", "Jeanne")
    page.fill("#birth_date", "1950-04-02")
    page.fill("#phone", "06 12 34 56 78")
    page.select_option("#commune", "85222")
    page.fill("#reason", "Fièvre")


def test_regulator_books_the_first_slot_with_the_keyboard(app, area, live_server, desktop_page):
    page = desktop_page
    login(page, live_server, area["regulator"].email, PASSWORD)
    page.goto(f"{live_server}/regulation")
    _fill_patient(page)
    page.wait_for_selector("#results li:nth-child(2)")

    page.focus("#results")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert "Martin" in page.inner_text('#results [aria-selected="true"]')
    page.keyboard.press("Enter")

    confirmation = page.wait_for_selector("#confirmation:not([hidden])")
    text = confirmation.inner_text()
    assert "Rendez-vous confirmé" in text
    assert "Dr Alex Martin" in text and area["doctor"].address in text
    with app.app_context():
        booking = db.session.query(Booking).one()
        assert booking.slot_id == area["first"].id and booking.patient.phone == "+33612345678"
    page.wait_for_selector("#bookings tr")
    assert "Durand" in page.inner_text("#bookings")
    assert_no_horizontal_scroll(page)
    screenshot(page, "regulation-booked")


def test_agenda_click_keeps_the_patient_form(app, area, live_server, desktop_page):
    page = desktop_page
    login(page, live_server, area["regulator"].email, PASSWORD)
    page.goto(f"{live_server}/regulation")
    _fill_patient(page)
    page.click("text=Agenda partagé")
    page.wait_for_selector("a.agenda-slot.status-free")
    screenshot(page, "regulation-agenda")
    page.click(f'a.agenda-slot[href$="slot={area["first"].id}"]')

    page.wait_for_selector('#results [aria-selected="true"]')
    assert page.input_value("#last_name") == "Durand"
    assert "Martin" in page.inner_text('#results [aria-selected="true"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirmation:not([hidden])")
    with app.app_context():
        assert db.session.get(Slot, area["first"].id).status == "booked"


def test_console_fits_a_phone(app, area, live_server, phone_page):
    login(phone_page, live_server, area["regulator"].email, PASSWORD)
    phone_page.goto(f"{live_server}/regulation")
    phone_page.wait_for_selector("#results li")
    assert "Console de régulation" in phone_page.inner_text("h1")
    assert_no_horizontal_scroll(phone_page)
