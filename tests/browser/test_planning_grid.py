"""The shared agenda as a planning grid: 25 GPs side by side, driven from the keyboard, live between regulators."""
from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today, utcnow
from snp_service.models import Booking

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, axe_violations, login, screenshot, type_patient_and_book

pytestmark = pytest.mark.browser

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461),
            ("85234", "Saint-Jean-de-Monts", 46.7906, -2.0597),
            ("85047", "Challans", 46.8467, -1.8781))
LAST_NAMES = ["Martin", "Bernard", "Robin", "Guérin", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert",
              "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Garnier",
              "Chevalier", "Legrand", "Gauthier", "Perrin", "Roussel-Delacroix"]


def _context(chromium, width, height):
    phone = width < 600
    return chromium.new_context(viewport={"width": width, "height": height}, locale="fr-FR", timezone_id="Europe/Paris",
                                is_mobile=phone, has_touch=phone)


@pytest.fixture
def cpts_of_25(world):
    """25 GPs in 4 communes; tomorrow each opens 10:00-11:00 in quarter hours; one booked, one withdrawn."""
    with world.batch():  # one commit, before the live server reads it
        cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES)
        tomorrow = paris_today() + timedelta(days=1)
        columns = []
        for n, last_name in enumerate(LAST_NAMES):
            insee = COMMUNES[n % 4][0]
            gp = world.practitioner(cpts, first_name="Claire" if n % 2 else "Marc", last_name=last_name, commune_insee=insee)
            slots = [world.slot(gp, datetime.combine(tomorrow, time(10, 15 * q), PARIS)) for q in range(4)]
            columns.append((gp, slots))
        booked = columns[3][1][0]
        world.booking(booked, first_name="Jeanne", last_name="Durand")
        withdrawn = columns[5][1][1]
        withdrawn.status = "withdrawn"
        regulators = [world.user("regulator", cpts), world.user("regulator", cpts)]
    return {"cpts": cpts, "day": tomorrow.isoformat(), "columns": columns, "booked": booked, "withdrawn": withdrawn,
            "regulators": regulators}


def _open_grid(page, live_server, user, day):
    login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server}/regulation/agenda?day={day}")
    page.wait_for_selector("#planning td.slot")


def _focused_slot(page) -> str | None:
    return page.evaluate("document.activeElement.dataset.slot || null")


def test_25_gps_fit_one_screen_by_commune_with_states_told_apart(app, cpts_of_25, live_server, chromium):
    context = _context(chromium, 1366, 768)
    page = context.new_page()
    try:
        _open_grid(page, live_server, cpts_of_25["regulators"][0], cpts_of_25["day"])
        headers = page.locator("#planning thead tr.names th")
        assert headers.count() == 25
        right = max(box["x"] + box["width"] for box in (headers.nth(i).bounding_box() for i in range(25)))
        assert right <= 1366, f"the 25th column ends at {right}px"
        assert_no_horizontal_scroll(page)
        communes = page.locator("#planning thead tr.communes th[scope=colgroup]").all_inner_texts()
        assert communes == ["Challans", "Saint-Gilles-Croix-de-Vie", "Saint-Hilaire-de-Riez", "Saint-Jean-de-Monts"]
        booked = page.locator(f'td[data-slot="{cpts_of_25["booked"].id}"]')
        withdrawn = page.locator(f'td[data-slot="{cpts_of_25["withdrawn"].id}"]')
        free = page.locator(f'td[data-slot="{cpts_of_25["columns"][0][1][0].id}"]')
        # Told apart by their text, not by colour alone.
        shown = lambda cell: cell.locator(".cell-text").inner_text().strip()  # noqa: E731
        assert shown(booked) == "JD" and "réservé (JD)" in booked.text_content()
        assert shown(withdrawn) == "retiré" and shown(free) == "libre"
        assert "Durand" not in page.inner_text("body")
        assert axe_violations(page) == []
        screenshot(page, "regulation-grid-1366")
        page.select_option("#agenda-days", "3")
        page.wait_for_function("() => document.querySelectorAll('#planning tr.day-row').length === 3")
        assert page.inner_text("#grid-day").startswith("Du ")
        assert axe_violations(page) == []
        screenshot(page, "regulation-grid-3-days-1366")
    finally:
        context.close()


def test_two_regulators_one_books_with_the_keyboard_the_other_sees_it_within_5_seconds(app, cpts_of_25, live_server,
                                                                                       chromium):
    first, second = _context(chromium, 1366, 768), _context(chromium, 1366, 768)
    page, other = first.new_page(), second.new_page()
    try:
        _open_grid(page, live_server, cpts_of_25["regulators"][0], cpts_of_25["day"])
        _open_grid(other, live_server, cpts_of_25["regulators"][1], cpts_of_25["day"])
        columns = cpts_of_25["columns"]  # in the grid: by commune name, then last name
        order = page.evaluate("[...document.querySelectorAll('#planning td[data-col=\"0\"], #planning td[data-col]')]"
                              ".filter((td) => td.dataset.slot).map((td) => [Number(td.dataset.col), Number(td.dataset.slot)])")
        by_slot = {slot_id: col for col, slot_id in order}
        # The grid opens with focus on the first free slot: no Tab to get there.
        start = int(_focused_slot(page))
        assert page.locator(f'td[data-slot="{start}"]').get_attribute("class").startswith("slot slot-free")
        start_col = by_slot[start]
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        target = int(_focused_slot(page))
        assert by_slot[target] == start_col + 2
        target_slot = next(s for _gp, slots in columns for s in slots if s.id == target)
        assert target_slot.start_at.astimezone(PARIS).minute == 15  # one row below 10:00
        page.keyboard.press("Enter")

        dialog = page.wait_for_selector("#book-dialog[open]")
        assert "10:15" in dialog.inner_text()
        assert page.evaluate("document.activeElement.id") == "last_name"
        assert axe_violations(page) == []
        screenshot(page, "regulation-grid-dialog-1366")
        for text in ("Durand", "Jeanne", "02041950", "0612345678"):
            page.keyboard.type(text)
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Enter on the commune field books
        page.wait_for_selector("#book-dialog:not([open])", state="attached")
        booked_at = clock.monotonic()
        assert "Rendez-vous confirmé pour Jeanne Durand" in page.inner_text("#grid-message")
        page.wait_for_selector(f'td[data-slot="{target}"].slot-booked')
        assert _focused_slot(page) == str(target)

        other.wait_for_selector(f'td[data-slot="{target}"].slot-booked', timeout=5_000)
        seen_after = clock.monotonic() - booked_at
        print(f"\nthe other regulator saw the booking after {seen_after:.1f} s")
        assert other.locator(f'td[data-slot="{target}"] .cell-text').inner_text().strip() == "JD"
        with app.app_context():
            assert db.session.query(Booking).filter_by(slot_id=target, status="booked").count() == 1
    finally:
        first.close()
        second.close()


def test_the_grid_marks_now_and_opens_a_booked_cell_to_cancel_or_move_it(app, world, live_server, chromium):
    cpts = world.cpts(regulation_area="Vendée", communes=COMMUNES[:1])
    gp = world.practitioner(cpts, last_name="Martin")
    now = utcnow().astimezone(PARIS)
    running = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    world.slot(gp, running)  # started: shown as past, the now line runs through it
    later = world.slot(gp, running + timedelta(minutes=30)) if running.hour < 23 else None
    regulator = world.user("regulator", cpts)
    context = _context(chromium, 1366, 768)
    page = context.new_page()
    try:
        _open_grid(page, live_server, regulator, now.date().isoformat())
        line = page.wait_for_selector("#now-line:not([hidden])")
        assert f"maintenant {now:%H}:" in line.inner_text()
        assert page.locator("td.slot-past").count() >= 1
        screenshot(page, "regulation-grid-now-1366")
        if later is not None:
            world.booking(later)
            page.wait_for_selector(f'td[data-slot="{later.id}"].slot-booked', timeout=5_000)
            page.focus(f'td[data-slot="{later.id}"]')
            page.keyboard.press("Enter")  # issue 24: a booking of any day is reachable from its cell
            dialog = page.wait_for_selector("#booking-dialog[open]")
            assert "Déplacer" in dialog.inner_text() and "Annuler : à la demande du patient" in dialog.inner_text()
            assert page.is_hidden("#book-dialog")
    finally:
        context.close()


def test_grid_on_a_phone_scrolls_inside_and_has_no_serious_violation(app, cpts_of_25, live_server, chromium):
    context = _context(chromium, 390, 844)
    page = context.new_page()
    try:
        _open_grid(page, live_server, cpts_of_25["regulators"][0], cpts_of_25["day"])
        assert_no_horizontal_scroll(page)
        assert page.evaluate("document.getElementById('grid-scroll').scrollWidth > 390")
        assert axe_violations(page) == []
        screenshot(page, "regulation-grid-390")
        page.tap(f'td[data-slot="{cpts_of_25["columns"][0][1][1].id}"]')
        page.wait_for_selector("#book-dialog[open]")
        assert axe_violations(page) == []
        assert_no_horizontal_scroll(page)
        screenshot(page, "regulation-grid-dialog-390")
    finally:
        context.close()


def test_a_booking_refused_in_the_dialog_says_why_next_to_the_fields(app, cpts_of_25, live_server, chromium):
    context = _context(chromium, 1366, 768)
    page = context.new_page()
    try:
        _open_grid(page, live_server, cpts_of_25["regulators"][0], cpts_of_25["day"])
        page.click(f'td[data-slot="{cpts_of_25["columns"][0][1][2].id}"]')
        page.wait_for_selector("#book-dialog[open]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#last_name[aria-invalid=true]")
        assert page.inner_text("#last_name-error") == "Nom obligatoire."
        assert page.evaluate("document.activeElement.id") == "last_name"
        page.keyboard.press("Escape")
        page.wait_for_selector("#book-dialog:not([open])", state="attached")
        assert _focused_slot(page) == str(cpts_of_25["columns"][0][1][2].id)
    finally:
        context.close()


def test_one_practitioners_agenda_from_the_sas_platform_books_with_channel_sas(app, cpts_of_25, live_server, chromium):
    gp, slots = cpts_of_25["columns"][0]
    context = _context(chromium, 1366, 768)
    page = context.new_page()
    try:
        login(page, live_server, cpts_of_25["regulators"][0].email, PASSWORD)
        page.goto(f"{live_server}/regulation/agenda?practitioner_id={gp.id}&origin=sas&day={cpts_of_25['day']}")
        page.wait_for_selector("#planning td.slot")
        assert page.locator("#planning thead tr.names th").count() == 1
        assert gp.last_name in page.inner_text("h1")
        assert _focused_slot(page) == str(slots[0].id)
        page.keyboard.press("Enter")
        page.wait_for_selector("#book-dialog[open]")
        assert page.input_value("#channel") == "sas"
        type_patient_and_book(page)
        page.wait_for_selector(f'td[data-slot="{slots[0].id}"].slot-booked')
        assert axe_violations(page) == []
        screenshot(page, "regulation-grid-one-practitioner-1366")
        with app.app_context():
            assert db.session.query(Booking).filter_by(slot_id=slots[0].id).one().channel == "sas"
    finally:
        context.close()
