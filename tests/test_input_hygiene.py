"""Issue 15, item 3: hostile text and numbers are refused at the edge, for every endpoint (SPEC section 8).

Seen: a JSON integer of 4,300+ digits answered 500 on any endpoint (anonymous sign-in included), a lone
surrogate in any string too, a NUL byte on PostgreSQL (names, PATCH /cpts). Now: 400 in the JSON
error format before any view runs, and nothing is written. Runs on both databases.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from snp_service import create_app
from snp_service.accounts import passwords
from snp_service.core.errors import Invalid
from snp_service.core.extensions import db
from snp_service.models import Booking, Cpts, Patient, Practitioner, Season
from snp_service.reporting import seasons

from .factories import PASSWORD
from .scope_world import cached_hash

API = "/api/v1"
BIG = "9" * 4_301
# Raw JSON text: json.dumps would escape these, so they are written by hand.
SURROGATE = '"Dupont\\ud800"'
NUL = '"Dupont\\u0000"'


def _openapi_operations():
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()
            if method != "parameters"]


OPERATIONS = _openapi_operations()
JSON_OPERATIONS = [(m, p) for m, p, op in OPERATIONS if "application/json" in op.get("requestBody", {}).get("content", {})]


@pytest.fixture
def setup(world, monkeypatch):
    monkeypatch.setattr(passwords, "hash_password", cached_hash)
    cpts = world.cpts(regulation_area="LV")
    gp = world.gp(cpts)
    slot = world.slot(gp.practitioner)
    booking = world.booking(world.slot(gp.practitioner, slot.start_at + timedelta(hours=1)))
    season = world._save(Season(cpts_id=cpts.id, name="Été", start_date=slot.start_at.date(),
                                end_date=slot.start_at.date() + timedelta(days=30)))
    users = {"admin": world.user("admin"), "coordinator": world.user("coordinator", cpts), "gp": gp,
             "regulator": world.user("regulator", cpts)}
    ids = {"cpts_id": cpts.id, "practitioner_id": gp.practitioner.id, "slot_id": slot.id, "booking_id": booking.id,
           "season_id": season.id, "filename": "Slot.ndjson", "token": "x"}
    return {"cpts": cpts, "gp": gp, "users": users, "headers": {r: world.headers(u) for r, u in users.items()},
            "ids": ids, "slot": slot}


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


def _malformed(response):
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    if body.get("resourceType") == "OperationOutcome":  # the FHIR base answers its own error format
        assert body["issue"][0]["details"]["coding"][0]["code"] == "malformed_input"
        return {"fields": {name: [] for name in body["issue"][0].get("expression", [])}}
    error = body["error"]
    assert error["code"] == "malformed_input" and {"code", "message", "fields"} <= error.keys()
    return error


def _counts():
    return [db.session.scalar(select(func.count()).select_from(model)) for model in (Cpts, Practitioner, Season,
                                                                                      Booking, Patient)]


@pytest.mark.parametrize("raw", [BIG, "-" + BIG, str(2 ** 64), "NaN", "Infinity", "1e400"])
def test_anonymous_sign_in_with_a_huge_number_is_400(client, raw):
    error = _malformed(client.post(f"{API}/auth/token", data='{"email": %s, "password": "x"}' % raw,
                                   content_type="application/json"))
    assert error["fields"]["json"]


@pytest.mark.parametrize("method, path", JSON_OPERATIONS, ids=[f"{m} {p}" for m, p in JSON_OPERATIONS])
@pytest.mark.parametrize("value", [BIG, SURROGATE, NUL], ids=["4301 digits", "lone surrogate", "NUL"])
def test_every_json_operation_refuses_hostile_values_before_its_view(client, setup, method, path, value):
    before = _counts()
    url = _url(path, setup["ids"])
    body = '{"name": %s, "nested": [{"first_name": %s}]}' % (value, value)
    for role in ("admin", "coordinator", "gp", "regulator"):
        response = client.open(url, method=method, data=body, content_type="application/json",
                               headers=setup["headers"][role])
        if response.status_code not in (401, 403, 404):
            break
    _malformed(response)
    assert _counts() == before


@pytest.mark.parametrize("method, path", [(m, p) for m, p, _op in OPERATIONS],
                         ids=[f"{m} {p}" for m, p, _op in OPERATIONS])
def test_every_operation_refuses_nul_in_the_query_string(client, setup, method, path):
    before = _counts()
    response = client.open(_url(path, setup["ids"]) + "?cpts_id=1%00&commune=%00", method=method,
                           headers=setup["headers"]["admin"])
    _malformed(response)
    assert _counts() == before


def test_nul_in_a_path_segment_or_a_form_field_is_400(client, setup):
    _malformed(client.get(f"{API}/calendar/abc%00def.ics"))
    page = client.post("/login", data={"email": "a\x00@test.example", "password": "x"})
    assert page.status_code == 400
    assert "Requête invalide" in page.get_data(as_text=True) or "invalide" in page.get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "regulation_area"])
def test_patch_cpts_with_nul_or_surrogate_changes_nothing(client, setup, field):
    url = f"{API}/cpts/{setup['cpts'].id}"
    for value in (NUL, SURROGATE):
        _malformed(client.patch(url, data='{"%s": %s}' % (field, value), content_type="application/json",
                                headers=setup["headers"]["admin"]))
    db.session.expire_all()
    assert db.session.get(Cpts, setup["cpts"].id).regulation_area == "LV"


def test_booking_with_nul_in_the_patient_name_is_400_and_books_nothing(client, setup):
    body = ('{"slot_id": %d, "channel": "116117", "reason": "x", "patient": {"first_name": "Jeanne", '
            '"last_name": %s, "birth_date": "1950-01-01", "phone": "+33612345678"}}') % (setup["slot"].id, NUL)
    _malformed(client.post(f"{API}/bookings", data=body, content_type="application/json",
                           headers=setup["headers"]["regulator"]))
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_text_is_normalised_to_nfc(client, setup):
    decomposed = "E\u0301te\u0301 2027"  # "Été 2027" as a Mac keyboard may send it
    response = client.post(f"{API}/seasons", headers=setup["headers"]["coordinator"], json={
        "cpts_id": setup["cpts"].id, "name": decomposed, "start_date": "2027-07-01", "end_date": "2027-08-31"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "\u00c9t\u00e9 2027"
    # The same name composed is the same season name: a conflict, not a second season.
    again = client.post(f"{API}/seasons", headers=setup["headers"]["coordinator"], json={
        "cpts_id": setup["cpts"].id, "name": "\u00c9t\u00e9 2027", "start_date": "2027-07-01", "end_date": "2027-08-31"})
    assert again.status_code == 409


ZERO_WIDTH = ["\u200b", "\u200b\u200c\u200d", "\ufeff", "\u2060 \u00a0", "\u0301", "\u3164"]


@pytest.mark.parametrize("name", ZERO_WIDTH)
def test_names_must_show_a_visible_character(client, setup, name):
    headers = setup["headers"]
    practitioner = client.post(f"{API}/practitioners", headers=headers["coordinator"], json={
        "cpts_ids": [setup["cpts"].id], "rpps": "19999999998", "first_name": "Ada", "last_name": name})
    assert practitioner.status_code == 422 and "last_name" in practitioner.get_json()["error"]["fields"]
    cpts = client.post(f"{API}/cpts", headers=headers["admin"], json={"name": name, "population": 1})
    assert cpts.status_code == 422
    booking = client.post(f"{API}/bookings", headers=headers["regulator"], json={
        "slot_id": setup["slot"].id, "channel": "116117", "reason": "x",
        "patient": {"first_name": name, "last_name": "Durand", "birth_date": "1950-01-01", "phone": "+33612345678"}})
    assert booking.status_code == 422
    season = client.post(f"{API}/seasons", headers=headers["coordinator"], json={
        "cpts_id": setup["cpts"].id, "name": name, "start_date": "2027-07-01", "end_date": "2027-08-31"})
    assert season.status_code == 422
    # The pages reach the season service directly: the rule holds there too.
    with pytest.raises(Invalid):
        seasons.create_season(setup["users"]["coordinator"], {"cpts_id": setup["cpts"].id, "name": name,
                                                              "start_date": setup["slot"].start_at.date(),
                                                              "end_date": setup["slot"].start_at.date()})
    assert db.session.scalar(select(func.count()).select_from(Season)) == 1


def test_names_with_accents_and_inner_spaces_are_fine(client, setup):
    response = client.post(f"{API}/practitioners", headers=setup["headers"]["coordinator"], json={
        "cpts_ids": [setup["cpts"].id], "rpps": "19999999998", "first_name": "Zoé", "last_name": "N'Guyen-Lê"})
    assert response.status_code == 201


def test_sign_in_still_works_with_the_strict_parser(client, setup):
    response = client.post(f"{API}/auth/token", json={"email": setup["users"]["admin"].email, "password": PASSWORD})
    assert response.status_code == 200
