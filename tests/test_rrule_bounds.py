"""Issue 28, finding 3: any GP could freeze a worker with an RRULE.

``FREQ=DAILY;INTERVAL=0;BYMONTH=6;UNTIL=20270201`` made dateutil loop forever; a rule that can never match
again (``BYMONTH=2;BYMONTHDAY=30``, ``BYSETPOS=-366``) made it walk to the year 9999 (0.8 to 8 s of CPU).
Through each entry point (a series on ``POST /slots``, an .ics on ``/slots/import`` and on the GP page)
such a rule is now refused with a 422 before any expansion, and every rule is expanded by
``snp_service.recurrence`` within the publishing horizon and a budget of days, never by dateutil's loop.
Each request runs under ``cost_guard.bounded``: on ``main`` the first rule hangs (interrupted, failing).
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.core.timeutil import to_paris, utcnow
from snp_service.models import Slot
from snp_service.slots import calendar_import, recurrence

from .cost_guard import bounded
from .factories import page_csrf
from .ics_samples import ICS_HEAD
from .rrule_strategies import hostile_parts

API = "/api/v1"


def _in_days(days: int) -> str:
    return f"{utcnow() + timedelta(days=days):%Y%m%d}"


# The rules, as a GP could send them; each is refused, whatever the entry point.
HOSTILE_RULES = [
    pytest.param(lambda: "FREQ=DAILY;INTERVAL=0;BYMONTH=6;UNTIL=20270201", id="interval-0"),
    pytest.param(lambda: f"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL={_in_days(100)}", id="february-30"),
    pytest.param(lambda: f"FREQ=DAILY;BYSETPOS=-366;UNTIL={_in_days(100)}", id="daily-bysetpos-366"),
    pytest.param(lambda: f"FREQ=MONTHLY;BYSETPOS=-366;UNTIL={_in_days(100)}", id="monthly-bysetpos-366"),
    pytest.param(lambda: f"FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3;UNTIL={_in_days(100)}", id="weekly-bysetpos-3"),
    pytest.param(lambda: f"FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31;UNTIL={_in_days(100)}", id="april-31"),
]


@pytest.fixture
def gp(world):
    return world.gp(world.cpts())


def _slots() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


def _series(rrule: str) -> dict:
    first = to_paris(utcnow() + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
    return {"series": {"first_start": first.replace(tzinfo=None).isoformat(), "block_minutes": 60,
                       "slot_minutes": 15, "rrule": rrule}}


def _ics(rrule: str) -> bytes:
    start = utcnow() + timedelta(days=1)
    return (ICS_HEAD + f"BEGIN:VEVENT\r\nUID:hostile\r\nDTSTART:{start:%Y%m%dT170000Z}\r\n"
            f"DTEND:{start:%Y%m%dT180000Z}\r\nRRULE:{rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


@pytest.mark.parametrize("rule", HOSTILE_RULES)
def test_a_hostile_rule_in_a_series_is_refused_at_once(client, world, gp, rule):
    with bounded():
        response = client.post(f"{API}/slots", json=_series(rule()), headers=world.headers(gp))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "invalid_rrule"
    assert list(response.get_json()["error"]["fields"]) == ["series.rrule"]
    assert _slots() == 0


@pytest.mark.parametrize("rule", HOSTILE_RULES)
def test_a_hostile_rule_in_an_imported_agenda_is_refused_at_once(client, world, gp, rule):
    with bounded():
        response = client.post(f"{API}/slots/import", data=_ics(rule()), content_type="text/calendar",
                               headers=world.headers(gp))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "event hostile" in response.get_json()["error"]["fields"]["file"][0]
    assert _slots() == 0


@pytest.mark.parametrize("rule", HOSTILE_RULES)
def test_a_hostile_rule_in_the_gp_page_import_is_refused_at_once(client, world, gp, rule):
    world.sign_in_page(client, gp)
    token = page_csrf(client, "/gp")
    with bounded():
        response = client.post("/gp/import", follow_redirects=True, content_type="multipart/form-data", data={
            "csrf_token": token, "ics-slot_minutes": "15", "ics-file": (io.BytesIO(_ics(rule())), "agenda.ics")})
    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert _slots() == 0


def test_a_rule_whose_interval_never_meets_its_month_is_walked_to_the_horizon_only(client, world, gp, monkeypatch):
    """Every 12 months from this month, in another month: no day ever matches. Nothing static says so;
    the walk stops at the horizon (dateutil walked to 9999) and the series has no occurrence."""
    walks = _spy_on_expand(monkeypatch)
    month = to_paris(utcnow() + timedelta(days=1)).month % 12 + 1
    with bounded():
        response = client.post(f"{API}/slots", json=_series(f"FREQ=MONTHLY;INTERVAL=12;BYMONTH={month};COUNT=3"),
                               headers=world.headers(gp))
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {"series.rrule": ["no occurrence"]}
    horizon = utcnow() + timedelta(days=world_horizon(client))
    assert walks and all(end.date() <= to_paris(horizon).date() for end, _ in walks)


def test_an_endless_daily_rule_in_an_agenda_is_expanded_to_the_horizon_only(client, world, gp, monkeypatch):
    walks = _spy_on_expand(monkeypatch)
    response = client.post(f"{API}/slots/import?slot_minutes=60", data=_ics("FREQ=DAILY"), content_type="text/calendar",
                           headers=world.headers(gp))
    assert response.status_code == 201, response.get_json()
    horizon_days = world_horizon(client)
    assert response.get_json()["created"] == horizon_days - 1 or response.get_json()["created"] == horizon_days
    [(end, examined)] = walks
    assert end.date() <= to_paris(utcnow() + timedelta(days=horizon_days + 1)).date()
    assert examined <= horizon_days + 3


def test_the_budget_of_days_is_a_hard_bound(monkeypatch):
    """Whatever the rule, the walk examines at most ``budget`` days, then refuses."""
    rule = recurrence.parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO")  # a 28-year cycle
    start = to_paris(utcnow()).replace(tzinfo=None)
    with pytest.raises(recurrence.TooCostly):
        recurrence.expand(rule, start, start.replace(year=start.year + 100), limit=1000, budget=5_000)
    assert calendar_import.MAX_EXPANSION_DAYS <= 50_000


def world_horizon(client) -> int:
    return client.application.config["PUBLISH_HORIZON_DAYS"]


def _spy_on_expand(monkeypatch) -> list:
    """Records (end, days examined) of every expansion."""
    walks = []
    real = recurrence.expand

    def spying(rule, start, end, **kwargs):
        found = real(rule, start, end, **kwargs)
        walks.append((end, found.examined))
        return found

    monkeypatch.setattr(recurrence, "expand", spying)
    return walks


# --- generated rules through the API ----------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=st.lists(hostile_parts, min_size=1, max_size=6), through=st.sampled_from(["series", "ics"]))
def test_any_rule_through_the_api_costs_little_and_never_a_500(client, world, gp, parts, through):
    rule = ";".join(parts)
    with bounded(seconds=3):
        if through == "series":
            response = client.post(f"{API}/slots", json=_series(rule), headers=world.headers(gp))
        else:
            response = client.post(f"{API}/slots/import", data=_ics(rule.replace("\r", "").replace("\n", "")),
                                   content_type="text/calendar", headers=world.headers(gp))
    assert response.status_code in (201, 400, 409, 422), response.get_data(as_text=True)[:300]
