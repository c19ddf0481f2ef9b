"""A GP on a 390x844 phone: publishes a Monday + Thursday series, sees it week by week beyond 7 days, withdraws a
slot, corrects an outcome; a refused publish keeps every value; the preview tells a daylight-saving day apart."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today
from snp_service.models import Slot

from ..factories import PASSWORD
from .conftest import assert_no_horizontal_scroll, login, screenshot, started_today

pytestmark = pytest.mark.browser


def next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7 or 7)


def live_slots(practitioner) -> int:
    db.session.rollback()  # end the read snapshot taken before the server wrote
    return db.session.scalar(select(func.count(Slot.id)).where(Slot.practitioner_id == practitioner.id,
                                                                Slot.status != "withdrawn"))


def test_gp_publishes_a_monday_thursday_series_sees_it_weeks_ahead_withdraws_one_and_corrects_an_outcome(
        app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    world.booking(world.slot(gp.practitioner, started_today(timedelta(minutes=1))), last_name="Bernard")
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    assert "Mes créneaux SNP" in page.inner_text("h1")

    # The series: Mondays and Thursdays, 09:00-10:00 in 15-minute slots, for four weeks from next Monday.
    first = next_weekday(paris_today(), 0)
    page.get_by_text("Série hebdomadaire").click()
    page.locator("#series-weekdays li", has_text="Lun").click()
    page.locator("#series-weekdays li", has_text="Jeu").click()
    page.fill("#series-start", "09:00")
    page.fill("#series-first_day", first.isoformat())
    page.fill("#series-last_day", (first + timedelta(days=24)).isoformat())  # 4 Mondays, 4 Thursdays
    expect(page.locator("#series-preview")).to_have_text(re.compile(r"^32 créneaux sur 8 jours : lun\. "))
    expect(page.locator("#series-submit")).to_have_text("Publier 32 créneaux")
    screenshot(page, "gp-series-preview")
    page.click("#series-submit")
    expect(page.locator("[role=status]")).to_have_text("32 créneaux ouverts")
    assert live_slots(gp.practitioner) == 32 + 1

    # Week by week, beyond the next 7 days: the third week holds its Monday and its Thursday.
    third = page.locator(f"details.week[data-week='{(first + timedelta(weeks=2)).isoformat()}']")
    expect(third.locator("summary")).to_contain_text("8 créneaux")
    third.locator("summary").click()
    monday, thursday = first + timedelta(weeks=2), first + timedelta(weeks=2, days=3)
    assert third.locator(".day h3").all_inner_texts() == [f"Lundi {monday:%d/%m}", f"Jeudi {thursday:%d/%m}"]
    assert third.locator(f"[data-day='{monday.isoformat()}'] .slot-time").all_inner_texts() == [
        "09:00 – 09:15", "09:15 – 09:30", "09:30 – 09:45", "09:45 – 10:00"]
    assert_no_horizontal_scroll(page)
    screenshot(page, "gp-series-weeks")

    page.once("dialog", lambda dialog: dialog.accept())
    third.locator(f"[data-day='{thursday.isoformat()}'] li.slot").nth(1).get_by_role("button", name=re.compile("Retirer")).click()
    expect(page.locator("[role=status]")).to_have_text(f"Créneau du {thursday:%d/%m} à 09:15 retiré")
    third = page.locator(f"details.week[data-week='{monday.isoformat()}']")
    expect(third).to_have_attribute("open", "")  # the page comes back on the week of the change
    assert third.locator(f"[data-day='{thursday.isoformat()}'] .slot-time").all_inner_texts() == [
        "09:00 – 09:15", "09:30 – 09:45", "09:45 – 10:00"]
    assert live_slots(gp.practitioner) == 32

    # Today's patient was seen... no, absent: the GP corrects the tap the same day.
    today = page.locator("#today-bookings + ul li.booking")
    today.get_by_role("button", name="Vu").click()
    expect(page.locator("li.booking .outcome")).to_have_text("Résultat : Vu")
    page.locator("li.booking").get_by_role("button", name="Corriger : absent").click()
    expect(page.locator("[role=status]")).to_contain_text(": absent")
    expect(page.locator("li.booking .outcome")).to_have_text("Résultat : Absent")
    expect(page.locator("li.booking").get_by_role("button", name="Corriger : vu")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "gp-outcome-corrected")


def test_a_refused_publish_keeps_every_value_and_says_why_next_to_the_field(app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    yesterday = paris_today() - timedelta(days=1)

    page.fill("#block-day", yesterday.isoformat())
    page.fill("#block-start", "10:00")
    page.fill("#block-end", "11:00")
    page.select_option("#block-slot_minutes", "20")
    page.select_option("#block-mode", "teleconsultation")
    expect(page.locator("#block-day-error")).to_contain_text("est déjà passé")  # the preview says it first
    page.click("#block-submit")
    page.wait_for_load_state("networkidle")

    # The same page, the block still open, every value as typed, the reason under the day.
    assert page.locator("details[data-kind=block]").get_attribute("open") is not None
    assert [page.input_value(f"#block-{name}") for name in ("day", "start", "end", "slot_minutes", "mode")] == [
        yesterday.isoformat(), "10:00", "11:00", "20", "teleconsultation"]
    error = page.locator("#block-day-error")
    assert error.is_visible() and f"{yesterday:%d/%m/%Y} à 10:00 est déjà passé" in error.inner_text()
    assert page.get_attribute("#block-day", "aria-invalid") == "true"
    assert page.get_attribute("#block-day", "aria-describedby") == "block-day-error"
    assert page.evaluate("document.activeElement.id") == "block-day"
    assert page.locator(".flash").count() == 0
    screenshot(page, "gp-refused-publish")

    # A series with no weekday: said next to the days, in plain French; the other values stay.
    page.get_by_text("Série hebdomadaire").click()
    page.fill("#series-start", "18:30")
    expect(page.locator("#series-weekdays-error")).to_have_text("Choisissez au moins un jour de la semaine")
    page.click("#series-submit")
    page.wait_for_load_state("networkidle")
    assert page.locator("details[data-kind=series]").get_attribute("open") is not None
    assert page.input_value("#series-start") == "18:30"
    assert page.inner_text("#series-weekdays-error") == "Choisissez au moins un jour de la semaine"
    # Every weekday is optional: the browser never demands all seven.
    assert page.locator("#series-weekdays input[required]").count() == 0
    page.locator("#series-weekdays li", has_text="Sam").click()
    page.fill("#series-last_day", page.input_value("#series-first_day"))
    first = date.fromisoformat(page.input_value("#series-first_day"))
    if first.weekday() != 5:  # no Saturday in a one-day series: plain words, no "règle de récurrence"
        expect(page.locator("#series-weekdays-error")).to_have_text(
            "Aucun créneau : aucun des jours choisis ne tombe entre le premier et le dernier jour")
    assert_no_horizontal_scroll(page)


def test_the_preview_count_is_the_published_count_on_a_daylight_saving_night(app, world, live_server, phone_page):
    app.config["PUBLISH_HORIZON_DAYS"] = 400
    gp = world.gp(world.cpts())
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    year = paris_today().year + 1
    last_sunday = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)

    page.fill("#block-day", last_sunday.isoformat())
    page.fill("#block-start", "01:00")
    page.fill("#block-end", "04:00")
    expect(page.locator("#block-submit")).to_have_text("Publier 8 créneaux")
    expect(page.locator("#block-preview")).to_have_text(
        "8 créneaux : 01:00, 01:15, 01:30, 01:45, 03:00, 03:15, 03:30, 03:45")
    expect(page.locator("#block-notes")).to_have_text(
        f"Le {last_sunday:%d/%m}, passage à l'heure d'été : de 01:00 à 04:00 il s'écoule 2 h et non 3 h, "
        "soit 8 créneaux au lieu de 12.")
    screenshot(page, "gp-dst-preview")
    page.click("#block-submit")
    expect(page.locator("[role=status]")).to_have_text("8 créneaux ouverts")
    assert live_slots(gp.practitioner) == 8
    start = datetime.combine(last_sunday, datetime.min.time().replace(hour=1), PARIS)
    db.session.rollback()
    assert db.session.scalar(select(func.min(Slot.start_at)).where(Slot.practitioner_id == gp.practitioner.id)) == start


def test_withdraw_asks_for_confirmation(app, world, live_server, phone_page):
    gp = world.gp(world.cpts())
    world.slot(gp.practitioner)
    login(phone_page, live_server, gp.email, PASSWORD)
    phone_page.once("dialog", lambda dialog: dialog.dismiss())
    phone_page.locator("button", has_text="Retirer").first.click()
    phone_page.wait_for_timeout(300)
    assert phone_page.locator("li.slot .status-free").count() == 1


def test_gp_series_over_an_occupied_thursday_sees_the_clash_and_publishes_the_rest_in_one_tap(
        app, world, live_server, phone_page):
    """Issue 24, at 390 px: a Monday + Thursday series over a week whose Thursday already holds a slot."""
    from .conftest import axe_violations

    gp = world.gp(world.cpts())
    first = next_weekday(paris_today(), 0)
    thursday = first + timedelta(days=3)
    world.slot(gp.practitioner, datetime.combine(thursday, datetime.min.time().replace(hour=9, minute=30), tzinfo=PARIS))
    page = phone_page
    login(page, live_server, gp.email, PASSWORD)
    page.get_by_text("Série hebdomadaire").click()
    page.locator("#series-weekdays li", has_text="Lun").click()
    page.locator("#series-weekdays li", has_text="Jeu").click()
    page.fill("#series-start", "09:00")
    page.fill("#series-first_day", first.isoformat())
    page.fill("#series-last_day", thursday.isoformat())
    expect(page.locator("#series-clashes")).to_have_text(f"Jours déjà occupés : jeu. {thursday:%d/%m}.")
    expect(page.locator("#series-skip")).to_have_text("Publier sans les jours déjà occupés (4 créneaux)")
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "gp-series-clash-390")
    page.click("#series-skip")  # one tap
    expect(page.locator(".flash-success")).to_contain_text("jours déjà occupés laissés de côté")
    assert live_slots(gp.practitioner) == 5
