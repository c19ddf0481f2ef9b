"""A SAS regulator follows the platform's booking link: sign-in, the practitioner's agenda, a booking with channel sas."""
from __future__ import annotations

from datetime import timedelta

import pytest

from snp_service.extensions import db
from snp_service.models import Booking
from snp_service.timeutil import utcnow

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def test_booking_link_signs_in_lands_on_the_agenda_and_books_with_channel_sas(app, world, live_server, desktop_page):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts, last_name="Martin")
    slot = world.slot(doctor, utcnow() + timedelta(hours=2))
    world.slot(world.practitioner(cpts, last_name="Bernard"), utcnow() + timedelta(hours=2))
    regulator = world.user("regulator", cpts)
    page = desktop_page

    page.goto(f"{live_server}/regulation/praticien/{doctor.id}?origin=sas")
    page.fill("#email", regulator.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/regulation/praticien/{doctor.id}?origin=sas")
    page.wait_for_selector("a.agenda-slot.status-free")
    assert "Bernard" not in page.inner_text(".agenda-grid")

    page.click(f'a.agenda-slot[href*="slot={slot.id}"]')
    page.wait_for_selector('#results [aria-selected="true"]')
    assert page.input_value("#channel") == "sas"
    page.fill("#last_name", "Durand")
    page.fill("#first_name", "Jeanne")
    page.fill("#birth_date", "1950-04-02")
    page.fill("#phone", "06 12 34 56 78")
    page.focus("#results")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirmation:not([hidden])")
    with app.app_context():
        booking = db.session.query(Booking).one()
        assert (booking.slot_id, booking.channel) == (slot.id, "sas")
