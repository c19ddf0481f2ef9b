"""ACI indicators per CPTS and period: computed from the report, stored, read against the targets."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.models import INDICATORS, IndicatorValue, Season
from snp_service.reporting import indicators
from snp_service.supplements import ledger
from tests.factories import sign_in_form

from .supplement_helpers import act, paris

TARGETS = {"fill_rate": 0.7, "offered_slots": 20, "participating_practitioners": 4}


@pytest.fixture
def summer(world):
    """A week of season 2020 of a CPTS, figures by hand in the tests below."""
    cpts = world.cpts(name="CPTS Littoral")
    cpts.indicator_targets = dict(TARGETS)
    season = Season(cpts=cpts, name="Été 2020", start_date=date(2020, 7, 13), end_date=date(2020, 7, 19))
    db.session.add(season)
    db.session.commit()
    p1, p2 = world.practitioner(cpts), world.practitioner(cpts)
    act(world, p1, "2020-07-13T10:00")                    # regulated act earning 15 €
    act(world, p1, "2020-07-14T10:00", channel="sas")     # regulated act, 14 July: PDSA, no supplement
    world.slot(p1, paris("2020-07-15T10:00"))  # offered, free
    act(world, p2, "2020-07-15T11:00", channel="other", has_treating_doctor="yes")
    act(world, p2, "2020-07-16T11:00", channel="15", outcome="no_show")
    world.slot(p2, paris("2020-07-16T11:30"), status="withdrawn")
    ledger.accrue_between("test", season.start_date, season.end_date)  # as the nightly run leaves the ledger
    return cpts, season


# offered 5, filled 4, no-show 1 of 4 outcomes, 3 of 4 patients without a treating doctor.
SEASON_VALUES = {
    "participating_practitioners": 2, "offered_slots": 5, "avg_offered_per_day": 0.71, "fill_rate": 0.8,
    "bookings_by_channel": {"116117": 1, "sas": 1, "15": 1, "other": 1}, "share_without_treating_doctor": 0.75,
    "no_show_rate": 0.25, "regulated_acts": 2, "supplement_cents": 1500,
    "requests_sent": 0, "requests_accepted": 0, "requests_expired": 0, "median_minutes_to_accept": None,
    # Issue 24: nobody confirmed nor cancelled from their own link; every no-show is an unconfirmed one.
    "patient_cancellations": 0, "confirmed_share": 0, "no_show_rate_confirmed": None, "no_show_rate_unconfirmed": 0.25,
}


def stored(cpts, period):
    rows = db.session.scalars(select(IndicatorValue).where(IndicatorValue.cpts_id == cpts.id,
                                                           IndicatorValue.period == period))
    return {row.code: (row.value, row.target, row.achievement) for row in rows}


def test_compute_stores_values_targets_and_achievement(summer):
    cpts, season = summer
    indicators.compute("test", cpts.id, f"season:{season.id}")

    values = stored(cpts, f"season:{season.id}")
    assert {code: value for code, (value, _t, _a) in values.items()} == SEASON_VALUES
    assert values["fill_rate"][1:] == (0.7, pytest.approx(0.8 / 0.7))
    assert values["offered_slots"][1:] == (20, 0.25)
    assert values["participating_practitioners"][1:] == (4, 0.5)
    assert values["no_show_rate"][1:] == (None, None)


def test_compute_twice_gives_the_same_rows(summer):
    cpts, _season = summer
    indicators.compute("test", cpts.id, "2020-07")
    first = stored(cpts, "2020-07")
    indicators.compute("test", cpts.id, "2020-07")
    assert stored(cpts, "2020-07") == first
    assert db.session.query(IndicatorValue).count() == len(INDICATORS)


def test_month_quarter_and_year_average_over_their_own_days(summer):
    cpts, _season = summer
    averages = {period: indicators.read(cpts.id, period)["indicators"][2]["value"]
                for period in ("2020-07", "2020-Q3", "2020")}
    assert averages == {"2020-07": round(5 / 31, 2), "2020-Q3": round(5 / 92, 2), "2020": round(5 / 366, 2)}


def test_nightly_job_computes_every_period_whose_days_are_still_open(summer):
    cpts, season = summer
    # Open: the days of the supplement recompute window (62 days), 19/05..20/07.
    assert indicators.compute_due(today=date(2020, 7, 20)) == {"cpts": 1, "values": 7 * len(INDICATORS)}
    periods = set(db.session.scalars(select(IndicatorValue.period)))
    assert periods == {"2020-05", "2020-06", "2020-07", "2020-Q2", "2020-Q3", "2020", f"season:{season.id}"}


def test_a_quarter_and_a_year_just_ended_are_recomputed(world):
    """After the 1 April run, 2026-Q1 says what March says (it used to keep its March figure forever)."""
    cpts = world.cpts()
    practitioner = world.practitioner(cpts)
    world.slot(practitioner, paris("2026-03-02T10:00"), status="expired")
    indicators.compute_due(today=date(2026, 3, 10))
    world.slot(practitioner, paris("2026-03-20T10:00"), status="expired")
    indicators.compute_due(today=date(2026, 4, 1))
    offered = {period: indicators.read(cpts.id, period)["indicators"][1]["value"] for period in ("2026-03", "2026-Q1")}
    assert offered == {"2026-03": 2, "2026-Q1": 2}

    world.slot(practitioner, paris("2026-12-30T10:00"), status="expired")
    indicators.compute_due(today=date(2026, 12, 31))
    world.slot(practitioner, paris("2026-12-31T10:00"), status="expired")
    indicators.compute_due(today=date(2027, 1, 1))
    offered = {period: indicators.read(cpts.id, period)["indicators"][1]["value"] for period in ("2026-Q4", "2026")}
    assert offered == {"2026-Q4": 2, "2026": 4}


def test_indicators_api(client, world, summer):
    cpts, season = summer
    headers = world.headers(world.user("coordinator", cpts))
    indicators.compute("test", cpts.id, f"season:{season.id}")
    cpts.indicator_targets = {"fill_rate": 0.8}  # edited after the nightly run: read against today's target
    db.session.commit()

    response = client.get(f"/api/v1/cpts/{cpts.id}/indicators?period=season:{season.id}", headers=headers)

    body = response.get_json()
    assert response.status_code == 200 and body["period"] == f"season:{season.id}"
    by_code = {item["code"]: item for item in body["indicators"]}
    assert {code: item["value"] for code, item in by_code.items()} == SEASON_VALUES
    assert by_code["fill_rate"] | {"label": None} == {"code": "fill_rate", "label": None, "value": 0.8,
                                                      "target": 0.8, "achievement": 1.0}
    assert by_code["offered_slots"]["target"] is None and by_code["offered_slots"]["achievement"] is None
    assert by_code["fill_rate"]["label"] == "Taux de remplissage"


@pytest.mark.parametrize("period, status", [("2020-13", 422), ("2020-Q5", 422), ("été", 422), ("season:x", 422),
                                            ("season:99999", 404)])
def test_indicators_api_refuses_bad_periods(client, world, summer, period, status):
    cpts, _season = summer
    headers = world.headers(world.user("coordinator", cpts))
    response = client.get(f"/api/v1/cpts/{cpts.id}/indicators", query_string={"period": period}, headers=headers)
    assert response.status_code == status and response.get_json()["error"]["code"]


def test_indicators_api_scopes(client, world, summer):
    cpts, season = summer
    other = world.cpts()
    foreign_season = Season(cpts=other, name="Hiver", start_date=date(2020, 1, 1), end_date=date(2020, 1, 31))
    db.session.add(foreign_season)
    db.session.commit()
    coordinator = world.headers(world.user("coordinator", cpts))
    url = f"/api/v1/cpts/{cpts.id}/indicators?period=season:{foreign_season.id}"
    assert client.get(url, headers=coordinator).status_code == 404
    assert client.get(f"/api/v1/cpts/{other.id}/indicators?period=2020", headers=coordinator).status_code == 403
    regulator = world.headers(world.user("regulator", cpts))
    assert client.get(f"/api/v1/cpts/{cpts.id}/indicators?period=2020", headers=regulator).status_code == 403


def test_cpts_record_page_shows_the_record_and_edits_targets(client, world, summer):
    cpts, season = summer
    cpts.aci_missions = ["Accès aux soins"]
    db.session.commit()
    coordinator = world.user("coordinator", cpts)
    token = sign_in_form(client, coordinator)

    page = client.get(f"/coordination/cpts/{cpts.id}?period=season:{season.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("CPTS Littoral", "Saint-Gilles-Croix-de-Vie", "50\u202f000", "taille <strong>2</strong>",
                 "Accès aux soins", "Taux de remplissage", "80,0\xa0%", "114\xa0%", "15,00\xa0€"):
        assert text in html

    response = client.post(f"/coordination/cpts/{cpts.id}", data={
        "csrf_token": token, "fill_rate": "75", "offered_slots": "20", "supplement_cents": "300"})
    assert response.status_code == 302
    db.session.expire_all()
    assert cpts.indicator_targets == {"fill_rate": 0.75, "offered_slots": 20.0, "supplement_cents": 30000}

    for typed in ("-5", "150"):
        refused = client.post(f"/coordination/cpts/{cpts.id}", data={"csrf_token": token, "fill_rate": typed})
        assert refused.status_code == 422 and "Entre 0 et 100\xa0%" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert cpts.indicator_targets["fill_rate"] == 0.75
    bad_period = client.get(f"/coordination/cpts/{cpts.id}?period=nimporte")
    assert bad_period.status_code == 422 and "Période invalide" in bad_period.get_data(as_text=True)


def test_cpts_record_page_is_for_its_own_coordinator(client, world, summer):
    cpts, _season = summer
    sign_in_form(client, world.user("coordinator", world.cpts()))
    assert client.get(f"/coordination/cpts/{cpts.id}").status_code == 403
