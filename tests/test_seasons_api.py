"""Seasons through the API: the coordinator of the CPTS only; the report and the comparison of two seasons."""
from __future__ import annotations

from datetime import datetime

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS
from snp_service.models import AuditEvent, Season


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def lv(world):
    cpts = world.cpts("CPTS LV")
    return {"cpts": cpts, "coordinator": world.user("coordinator", cpts), "gp": world.practitioner(cpts)}


def create(client, world, user, **body):
    payload = {"name": "Été 2026", "start_date": "2026-07-13", "end_date": "2026-09-10"} | body
    return client.post("/api/v1/seasons", json=payload, headers=world.headers(user))


def test_coordinator_creates_lists_and_edits_a_season(client, world, lv):
    created = create(client, world, lv["coordinator"], cpts_id=lv["cpts"].id)
    assert created.status_code == 201
    season = created.get_json()
    assert season | {"id": 0} == {"id": 0, "cpts_id": lv["cpts"].id, "name": "Été 2026",
                                   "start_date": "2026-07-13", "end_date": "2026-09-10"}

    headers = world.headers(lv["coordinator"])
    listed = client.get(f"/api/v1/seasons?cpts_id={lv['cpts'].id}", headers=headers).get_json()
    assert [s["name"] for s in listed] == ["Été 2026"]

    patched = client.patch(f"/api/v1/seasons/{season['id']}", json={"end_date": "2026-09-15"}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["end_date"] == "2026-09-15"
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(object_type="season")]
    assert actions == ["season.create", "season.update"]


def test_bad_seasons_are_refused_and_nothing_is_stored(client, world, lv):
    cpts_id = lv["cpts"].id
    backwards = create(client, world, lv["coordinator"], cpts_id=cpts_id, start_date="2026-09-10", end_date="2026-07-13")
    assert backwards.status_code == 422
    assert backwards.get_json()["error"]["fields"] == {"end_date": ["before start_date"]}
    assert create(client, world, lv["coordinator"], cpts_id=cpts_id, start_date="13/07/2026").status_code == 422
    assert create(client, world, lv["coordinator"], cpts_id=cpts_id).status_code == 201
    duplicate = create(client, world, lv["coordinator"], cpts_id=cpts_id)
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["code"] == "name_taken"
    assert db.session.query(Season).count() == 1


def test_only_the_cpts_coordinator_may_touch_its_seasons(client, world, lv):
    season = create(client, world, lv["coordinator"], cpts_id=lv["cpts"].id).get_json()
    other = world.user("coordinator", world.cpts("CPTS voisine"))
    regulator = world.user("regulator", lv["cpts"])
    headers = world.headers(other)

    assert create(client, world, other, cpts_id=lv["cpts"].id).status_code == 403
    assert client.get(f"/api/v1/seasons?cpts_id={lv['cpts'].id}", headers=headers).status_code == 403
    assert client.patch(f"/api/v1/seasons/{season['id']}", json={"name": "X"}, headers=headers).status_code == 403
    assert client.get(f"/api/v1/seasons/{season['id']}/report", headers=headers).status_code == 403
    assert client.get(f"/api/v1/seasons/compare?a={season['id']}&b={season['id']}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/seasons/{season['id']}/report", headers=world.headers(regulator)).status_code == 403
    assert client.get("/api/v1/seasons/999/report", headers=world.headers(lv["coordinator"])).status_code == 404
    assert client.get(f"/api/v1/seasons/{season['id']}/report").status_code == 401
    assert db.session.get(Season, season["id"]).name == "Été 2026"


def test_season_report_json(client, world, lv):
    gp = lv["gp"]
    world.booking(world.slot(gp, paris(2026, 7, 13, 10, 0), status="expired"), channel="sas")
    world.slot(gp, paris(2026, 7, 13, 10, 15), status="expired")
    world.slot(gp, paris(2026, 7, 20, 10, 0), status="withdrawn")
    world.slot(gp, paris(2026, 7, 12, 10, 0), status="expired")  # the day before the season
    season = create(client, world, lv["coordinator"], cpts_id=lv["cpts"].id, end_date="2026-07-22").get_json()

    answer = client.get(f"/api/v1/seasons/{season['id']}/report?group_by=week", headers=world.headers(lv["coordinator"]))

    assert answer.status_code == 200
    report = answer.get_json()
    assert report["summary"]["offered"] == 2 and report["summary"]["filled"] == 1
    assert report["summary"]["fill_rate"] == 0.5
    assert report["summary"]["avg_offered_per_day"] == 0.2  # 2 offered over 10 days
    assert report["summary"]["bookings_by_channel"] == {"116117": 0, "sas": 1, "15": 0, "other": 0}
    assert report["breakdown"] == [{"key": "2026-W29", "offered": 2, "filled": 1, "fill_rate": 0.5},
                                   {"key": "2026-W30", "offered": 0, "filled": 0, "fill_rate": None}]
    assert len(report["breakdowns"]["day"]) == 10
    assert set(report["breakdowns"]) == {"day", "week", "weekday", "hour", "practitioner", "commune", "channel",
                                         "profession"}


def test_unknown_report_options_are_refused(client, world, lv):
    season = create(client, world, lv["coordinator"], cpts_id=lv["cpts"].id).get_json()
    headers = world.headers(lv["coordinator"])

    for query in ("format=pdf", "group_by=month", "sep=|", "decimal=dot"):
        answer = client.get(f"/api/v1/seasons/{season['id']}/report?{query}", headers=headers)
        assert answer.status_code == 422, query
        assert answer.get_json()["error"]["fields"], query


def test_compare_two_seasons_side_by_side(client, world, lv):
    gp = lv["gp"]
    # 2025, week 1 of the season: 2 offered, 1 filled; week 2: 1 offered, 0 filled.
    world.booking(world.slot(gp, paris(2025, 7, 13, 10, 0), status="expired"))
    world.slot(gp, paris(2025, 7, 14, 10, 0), status="expired")
    world.slot(gp, paris(2025, 7, 20, 10, 0), status="expired")
    # 2026, week 1: 2 offered, 2 filled; no week 2 slot.
    world.booking(world.slot(gp, paris(2026, 7, 13, 10, 0), status="expired"))
    world.booking(world.slot(gp, paris(2026, 7, 19, 10, 0), status="expired"))
    coordinator = lv["coordinator"]
    a = create(client, world, coordinator, cpts_id=lv["cpts"].id, name="Été 2025", start_date="2025-07-13",
               end_date="2025-07-26").get_json()
    b = create(client, world, coordinator, cpts_id=lv["cpts"].id, start_date="2026-07-13", end_date="2026-07-26").get_json()

    answer = client.get(f"/api/v1/seasons/compare?a={a['id']}&b={b['id']}", headers=world.headers(coordinator))

    assert answer.status_code == 200
    body = answer.get_json()
    figures = {f["code"]: f for f in body["figures"]}
    assert (figures["offered"]["a"], figures["offered"]["b"], figures["offered"]["difference"]) == (3, 2, -1)
    assert (figures["fill_rate"]["a"], figures["fill_rate"]["b"], figures["fill_rate"]["difference"]) == (0.3333, 1.0, 0.6667)
    assert body["weekly"] == [{"week": 1, "a": 0.5, "b": 1.0}, {"week": 2, "a": 0.0, "b": None}]
    assert body["a"]["season"]["name"] == "Été 2025" and body["b"]["summary"]["filled"] == 2


def test_season_report_html_is_a_french_printable_page(client, world, lv):
    world.booking(world.slot(lv["gp"], paris(2026, 7, 14, 10, 0), status="expired"))
    world.slot(lv["gp"], paris(2026, 7, 14, 10, 15), status="expired")
    season = create(client, world, lv["coordinator"], cpts_id=lv["cpts"].id).get_json()

    answer = client.get(f"/api/v1/seasons/{season['id']}/report?format=html", headers=world.headers(lv["coordinator"]))

    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert "Rapport de remplissage · Été 2026" in page and "/static/pages/report.css" in page
    assert "50,0\xa0%" in page  # 1 filled of 2 offered
    assert page.count("<svg") == 2 and "<script" not in page and "<style" not in page and " style=" not in page
    assert lv["gp"].rpps in page
