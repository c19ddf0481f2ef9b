"""Issue 28, finding 8 (dates): one set of date bounds (``timeutil.FIRST_DAY``..``LAST_DAY``) for seasons,
reports, statements, indicators' periods, searches and imports.

A season from 0001-01-01 to 0001-12-31 (or in 9999) was accepted, and then its report answered 500 in
every format: the day widened to its UTC hours left Python's calendar. Every date the service is given is
now within 1900-2199, or a 422 that changes nothing.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.models import Season, Slot

from .factories import page_csrf

API = "/api/v1"
FAR_SEASONS = [("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31"), ("1899-12-01", "1900-01-31"),
               ("2199-12-01", "2200-01-31")]


@pytest.fixture
def lv(world):
    cpts = world.cpts("CPTS LV")
    return {"cpts": cpts, "coordinator": world.user("coordinator", cpts)}


def _seasons() -> int:
    return db.session.scalar(select(func.count()).select_from(Season))


def _stored_season(lv, start: date, end: date) -> Season:
    """A season stored before the bounds existed (or by hand): the reports refuse it themselves."""
    season = Season(cpts_id=lv["cpts"].id, name=f"An {start.year}", start_date=start, end_date=end)
    db.session.add(season)
    db.session.commit()
    return season


@pytest.mark.parametrize("start, end", FAR_SEASONS)
def test_a_season_out_of_the_date_bounds_is_refused_and_not_stored(client, world, lv, start, end):
    response = client.post(f"{API}/seasons", json={"cpts_id": lv["cpts"].id, "name": "Très loin",
                                                    "start_date": start, "end_date": end},
                           headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422, response.get_json()
    assert "1900-2199" in str(response.get_json()["error"]["fields"])
    assert _seasons() == 0


def test_the_bounds_themselves_are_a_season(client, world, lv):
    for name, start, end in (("Premier", "1900-01-01", "1900-12-31"), ("Dernier", "2199-01-01", "2199-12-31")):
        response = client.post(f"{API}/seasons", json={"cpts_id": lv["cpts"].id, "name": name,
                                                        "start_date": start, "end_date": end},
                               headers=world.headers(lv["coordinator"]))
        assert response.status_code == 201, response.get_json()
        report = client.get(f"{API}/seasons/{response.get_json()['id']}/report?group_by=week",
                            headers=world.headers(lv["coordinator"]))
        assert report.status_code == 200, report.get_json()
        assert report.get_json()["summary"]["offered"] == 0


def test_a_season_cannot_be_moved_out_of_the_bounds(client, world, lv):
    headers = world.headers(lv["coordinator"])
    season = client.post(f"{API}/seasons", json={"cpts_id": lv["cpts"].id, "name": "Été", "start_date": "2026-07-13",
                                                  "end_date": "2026-09-10"}, headers=headers).get_json()
    moved = client.patch(f"{API}/seasons/{season['id']}", json={"start_date": "0001-01-01", "end_date": "0001-12-31"},
                         headers=headers)
    assert moved.status_code == 422, moved.get_json()
    db.session.expire_all()
    assert db.session.get(Season, season["id"]).start_date == date(2026, 7, 13)


@pytest.mark.parametrize("report_format", ["json", "csv", "xlsx", "html"])
def test_a_stored_season_out_of_the_bounds_reports_422_not_500(client, world, lv, report_format):
    season = _stored_season(lv, date(1, 1, 1), date(1, 12, 31))
    response = client.get(f"{API}/seasons/{season.id}/report?format={report_format}",
                          headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "out_of_range"


def test_the_dashboard_still_opens_beside_a_stored_season_out_of_the_bounds(client, world, lv):
    _stored_season(lv, date(1, 1, 1), date(1, 12, 31))
    world.sign_in_page(client, lv["coordinator"])
    assert client.get(f"/coordination?cpts_id={lv['cpts'].id}").status_code == 200


def test_the_season_page_refuses_a_season_in_year_1(client, world, lv):
    world.sign_in_page(client, lv["coordinator"])
    token = page_csrf(client, "/coordination")
    response = client.post(f"/coordination/seasons?cpts_id={lv['cpts'].id}", follow_redirects=True, data={
        "csrf_token": token, "name": "An 1", "start_date": "0001-01-01", "end_date": "0001-12-31"})
    assert response.status_code == 200
    assert "1900-2199" in response.get_data(as_text=True)
    assert _seasons() == 0


@pytest.mark.parametrize("query", [
    "from=0001-01-01&to=0001-12-31", "from=9999-01-01&to=9999-12-31", "from=2199-12-01&to=2200-01-31"])
def test_a_fill_rate_report_out_of_the_bounds_is_422(client, world, lv, query):
    for report_format in ("json", "csv", "xlsx"):
        response = client.get(f"{API}/reports/fill-rate?cpts_id={lv['cpts'].id}&{query}&format={report_format}"
                              "&group_by=week", headers=world.headers(lv["coordinator"]))
        assert response.status_code == 422, (report_format, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("period", ["0001", "9999-12", "9999-Q4", "0001-01", "1899", "2200-Q1"])
def test_indicators_of_a_period_out_of_the_bounds_are_422(client, world, lv, period):
    response = client.get(f"{API}/cpts/{lv['cpts'].id}/indicators?period={period}",
                          headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


def test_indicators_of_a_stored_season_out_of_the_bounds_are_422(client, world, lv):
    season = _stored_season(lv, date(9999, 1, 1), date(9999, 12, 31))
    response = client.get(f"{API}/cpts/{lv['cpts'].id}/indicators?period=season:{season.id}",
                          headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_statement_out_of_the_bounds_is_422(client, world, lv, month):
    response = client.get(f"{API}/supplements?cpts_id={lv['cpts'].id}&month={month}",
                          headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422


@pytest.mark.parametrize("query", ["from=0001-01-01", "from=9999-12-31", "from=0001-01-01T00:00:00%2B00:00",
                                   "to=0001-01-02"])
def test_a_slot_listing_out_of_the_bounds_is_422(client, world, query):
    gp = world.gp(world.cpts())
    response = client.get(f"{API}/slots?{query}", headers=world.headers(gp))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("query", ["from=0001-01-01T00:00:00%2B00:00&to=0001-01-02T00:00:00%2B00:00",
                                   "from=9999-12-31T00:00:00%2B00:00&to=9999-12-31T23:00:00%2B00:00"])
def test_a_search_out_of_the_bounds_is_422(client, world, query):
    regulator = world.user("regulator", world.cpts())
    response = client.get(f"{API}/slots/search?{query}", headers=world.headers(regulator))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("start", ["0001-07-15T10:00:00+02:00", "9999-07-15T10:00:00+02:00"])
def test_a_history_row_out_of_the_bounds_is_refused_by_line(client, world, lv, start):
    gp = world.practitioner(lv["cpts"], rpps="10100000001")
    row = f"{gp.rpps},{start},{start.replace('10:00', '10:15')},office,0,1,{start},116117,honored,no"
    body = ("rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor\n"
            + row + "\n").encode()
    response = client.post(f"{API}/imports/history?cpts_id={lv['cpts'].id}", data=body, content_type="text/csv",
                           headers=world.headers(lv["coordinator"]))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "1900-2199" in str(response.get_json()["error"])
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0


# --- finding 11: PATCH /seasons/{id} without a body answered 200 having changed nothing -------------------


@pytest.mark.parametrize("body", [{}, {"json": {}}])
def test_a_patch_without_anything_to_change_is_422(client, world, lv, body):
    headers = world.headers(lv["coordinator"])
    season = client.post(f"{API}/seasons", json={"cpts_id": lv["cpts"].id, "name": "Été", "start_date": "2026-07-13",
                                                  "end_date": "2026-09-10"}, headers=headers).get_json()
    for url in (f"{API}/seasons/{season['id']}", f"{API}/cpts/{lv['cpts'].id}"):
        response = client.patch(url, headers=headers, **body)
        assert response.status_code == 422, (url, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["fields"] == {"_schema": ["give at least one field to change"]}
