"""A SAS regulator follows the platform's booking link: sign-in, the practitioner's agenda, a booking with channel sas."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today
from snp_service.models import Booking

from ..factories import PASSWORD
from .conftest import type_patient_and_book

pytestmark = pytest.mark.browser


def test_booking_link_signs_in_lands_on_the_agenda_and_books_with_channel_sas(app, world, live_server, desktop_page):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts, last_name="Martin")
    slot = world.slot(doctor, datetime.combine(paris_today() + timedelta(days=1), time(10, 0), PARIS))
    world.slot(world.practitioner(cpts, last_name="Bernard"), slot.start_at)
    regulator = world.user("regulator", cpts)
    page = desktop_page

    page.goto(f"{live_server}/regulation/praticien/{doctor.id}?origin=sas")  # what Slot.comment names
    page.fill("#email", regulator.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/regulation/agenda?practitioner_id={doctor.id}&origin=sas")
    page.fill("#agenda-day", slot.start_at.astimezone(PARIS).date().isoformat())
    page.dispatch_event("#agenda-day", "change")
    page.wait_for_selector(f'td[data-slot="{slot.id}"]')
    assert page.locator("#planning thead tr.names th").count() == 1 and "Martin" in page.inner_text("h1")
    page.click(f'td[data-slot="{slot.id}"]')  # a free cell opens the booking form
    page.wait_for_selector("#book-dialog[open]")
    assert page.input_value("#channel") == "sas"
    type_patient_and_book(page)
    page.wait_for_selector(f'td[data-slot="{slot.id}"].slot-booked')
    with app.app_context():
        assert db.session.query(Booking).filter_by(slot_id=slot.id).one().channel == "sas"
