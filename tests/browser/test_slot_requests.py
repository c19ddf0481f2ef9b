"""Nothing free: the regulator sends a slot request keyboard-only; a GP on a phone opens the SMS link and accepts;
the console shows the acceptance within 5 s with the read-back; another GP's page says "Demande pourvue"."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, utcnow
from snp_service.models import Booking, OutboxMessage

from ..factories import PASSWORD
from .conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, login, screenshot

pytestmark = pytest.mark.browser

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461))


def _gp(world, cpts, last_name: str, phone: str):
    user = world.gp(cpts, first_name="Anne" if last_name == "Bonnet" else "Marc", last_name=last_name)
    user.practitioner.takes_requests = True
    user.practitioner.phone = phone
    db.session.commit()
    return user


def _sms_link(practitioner_id: int) -> str:
    db.session.rollback()
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "gp_slot_request",
                                                             OutboxMessage.practitioner_id == practitioner_id))
    return re.search(r"https?://\S+/gp/demandes/\d+", body).group(0)


def _next_1620() -> datetime:
    """16:20 Paris today, or tomorrow when today's is too close or gone: inside the console's 48 h window."""
    now = datetime.now(PARIS)
    at = now.replace(hour=16, minute=20, second=0, microsecond=0)
    return at if at - now > timedelta(minutes=20) else at + timedelta(days=1)


def test_a_request_sent_keyboard_only_is_accepted_on_a_phone_and_read_back_in_the_console(app, world, live_server,
                                                                                            chromium):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    regulator = world.user("regulator", cpts)
    bonnet = _gp(world, cpts, "Bonnet", "+33612000001")
    other = _gp(world, cpts, "Girard", "+33612000002")
    desk = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    phone = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True,
                                 has_touch=True, device_scale_factor=2)
    other_phone = chromium.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True)
    try:
        console = desk.new_page()
        console.set_default_timeout(10_000)
        login(console, live_server, regulator.email, PASSWORD)
        console.goto(f"{live_server}/regulation")
        console.wait_for_selector("#results-empty:not([hidden])")
        assert console.evaluate("document.activeElement.id") == "last_name"
        for text in ("Durand", "Jeanne", "02041950", "06 12 34 56 78", "Saint-Gi", "Fièvre"):
            console.keyboard.type(text, delay=10)
            console.keyboard.press("Tab")
        console.keyboard.press("Enter")  # searches: nothing free, not even later
        console.wait_for_function("() => document.activeElement.id === 'request-slot'")
        assert "Demander un créneau" in console.inner_text("#request-offer")
        console.keyboard.press("Enter")  # sends the request
        console.wait_for_selector("#slot-requests .slot-request.is-open")
        assert "Envoyée à 2 médecins, vue par 0" in console.inner_text("#slot-requests")
        screenshot(console, "slot-request-sent-1366")

        link = _sms_link(bonnet.practitioner_id)
        assert link == _sms_link(other.practitioner_id)
        path = link[link.index("/gp/"):]
        colleague = other_phone.new_page()
        login(colleague, live_server, other.email, PASSWORD)
        colleague.goto(f"{live_server}{path}")
        colleague.wait_for_selector("#accept-time")

        gp_page = phone.new_page()
        gp_page.set_default_timeout(10_000)
        login(gp_page, live_server, bonnet.email, PASSWORD)
        gp_page.goto(f"{live_server}{path}")
        text = gp_page.inner_text("#slot-request")
        assert "Saint-Gilles-Croix-de-Vie" in text and "Fièvre" in text and "Au cabinet" in text
        console.wait_for_function("() => document.querySelector('#slot-requests').innerText.includes('vue par 2')")
        at = _next_1620()
        gp_page.fill("#accept-day", at.date().isoformat())
        gp_page.fill("#accept-time", "16:20")
        assert_no_horizontal_scroll(gp_page)
        screenshot(gp_page, "slot-request-gp-390")
        gp_page.click("button[type=submit].primary")
        gp_page.wait_for_load_state("networkidle")
        assert "Rendez-vous créé" in gp_page.inner_text("body")

        accepted = console.wait_for_selector("#slot-requests .slot-request.is-accepted", timeout=5_000)
        state = accepted.inner_text()
        assert "acceptée par le Dr Anne Bonnet à 16h20" in state
        assert "Patient : Jeanne Durand" in state and "16:20" in state
        screenshot(console, "slot-request-accepted-1366")

        colleague.reload()
        assert "Demande pourvue" in colleague.inner_text("#slot-request")
        screenshot(colleague, "slot-request-filled-390")
        db.session.rollback()  # a fresh read: the server committed since this session last read
        booking = db.session.scalar(select(Booking))
        assert booking.slot.practitioner_id == bonnet.practitioner_id
        assert booking.slot.start_at.astimezone(PARIS).strftime("%H:%M") == "16:20"
        assert booking.slot.start_at > utcnow()
    finally:
        for context in (desk, phone, other_phone):
            context.close()


def test_later_slots_are_listed_and_booked_with_the_keyboard(app, world, live_server, chromium):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
    regulator = world.user("regulator", cpts)
    doctor = world.practitioner(cpts, first_name="Anne", last_name="Bonnet")
    nurse = world.practitioner(cpts, first_name="Claire", last_name="Morel", profession="nurse")
    later = world.slot(doctor, utcnow() + timedelta(hours=60))  # after the 48 h window
    world.slot(nurse, utcnow() + timedelta(hours=2))  # in the window, but not a GP
    desk = chromium.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = desk.new_page()
        page.set_default_timeout(10_000)
        login(page, live_server, regulator.email, PASSWORD)
        page.goto(f"{live_server}/regulation")
        page.wait_for_selector("#results-empty:not([hidden])")
        assert page.input_value("#profession") == "gp"  # "Médecin généraliste" by default
        for text in ("Durand", "Jeanne", "02041950", "06 12 34 56 78", "Saint-Gi", "Fièvre"):
            page.keyboard.type(text, delay=10)
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'results'")
        listed = page.inner_text("#results")
        assert "Prochains créneaux disponibles" in listed and "Dr Anne Bonnet" in listed and "Morel" not in listed
        assert not page.is_hidden("#request-offer")  # nothing in the window: a request is offered too
        screenshot(page, "later-slots-1366")
        page.keyboard.press("Enter")  # books the later slot
        page.wait_for_selector("#confirmation:not([hidden])")
        db.session.rollback()
        assert db.session.scalar(select(Booking.slot_id)) == later.id
    finally:
        desk.close()
