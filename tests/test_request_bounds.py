"""Issue 28, finding 4: unbounded arrays ate memory; every request's cost is bounded before work.

What the probe sent, and cost on ``main``:
- ``{"slots": [1, 1, ...]}`` of 2 MB: 26-30 s and +770 MB (one validation error per element); 330,000
  empty objects: 14-17 s and +389 MB;
- as a coordinator, 1,000,000 ``aci_missions``: 10 s and +325 MB; a huge ``cpts_ids``: 4 s;
- without any account, ``POST /auth/token`` with 150,000 unknown keys: 1.7 s and +60 MB.

Now a JSON body holding more values than any request needs is a 413 before it is parsed
(``hygiene.MAX_JSON_VALUES``); below that, unknown keys are refused before the schema reads anything
(the first five named), arrays are measured before their items are read (``BoundedList``) and reading
stops at the first five bad items. Each request runs under ``cost_guard.bounded``.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length

from snp_service.core import hygiene
from snp_service.core.extensions import db
from snp_service.models import Cpts, Slot, User

from .cost_guard import bounded
from .sas_world import SAS_HEADERS, assert_operation_outcome, configure

API = "/api/v1"


@pytest.fixture
def lv(world):
    cpts = world.cpts("CPTS LV")
    return {"cpts": cpts, "coordinator": world.user("coordinator", cpts), "gp": world.gp(cpts)}


def _send(client, method: str, url: str, body: bytes, headers: dict | None = None):
    with bounded():
        return client.open(url, method=method, data=body, content_type="application/json", headers=headers or {})


def _numbers(count: int) -> str:
    return "[" + ",".join(["1"] * count) + "]"


def test_a_2_mb_array_of_numbers_in_a_publish_is_refused_before_parsing(client, world, lv):
    body = ('{"slots":' + _numbers(1_000_000) + "}").encode()
    assert 1_900_000 < len(body) < 2 * 1024 * 1024
    response = _send(client, "POST", f"{API}/slots", body, world.headers(lv["gp"]))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_many_values"
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0


def test_330_000_empty_objects_are_refused_before_parsing(client, world, lv):
    body = ('{"slots":[' + ",".join(["{}"] * 330_000) + "]}").encode()
    response = _send(client, "POST", f"{API}/slots", body, world.headers(lv["gp"]))
    assert response.status_code == 413


def test_a_million_aci_missions_are_refused_before_parsing(client, world, lv):
    body = ('{"aci_missions":' + _numbers(1_000_000) + "}").encode()
    response = _send(client, "PATCH", f"{API}/cpts/{lv['cpts'].id}", body, world.headers(lv["coordinator"]))
    assert response.status_code == 413
    db.session.expire_all()
    assert db.session.get(Cpts, lv["cpts"].id).aci_missions in (None, [])


@pytest.mark.parametrize("url", [f"{API}/users", f"{API}/practitioners"])
def test_a_huge_cpts_ids_is_refused_before_parsing(client, world, lv, url):
    body = json.dumps({"email": "x@example.org", "password": "a-long-password-1", "role": "regulator",
                       "rpps": "10000000099", "first_name": "A", "last_name": "B"})[:-1]
    body = (body + ',"cpts_ids":' + _numbers(900_000) + "}").encode()
    response = _send(client, "POST", url, body, world.headers(lv["coordinator"]))
    assert response.status_code == 413


def test_150_000_unknown_keys_on_the_token_endpoint_are_refused_without_an_account(client):
    body = ("{" + ",".join(f'"k{i}":1' for i in range(150_000)) + ',"email":"a@b.fr","password":"x"}').encode()
    response = _send(client, "POST", f"{API}/auth/token", body)
    assert response.status_code == 413


def test_unknown_keys_under_the_budget_are_refused_naming_five(client):
    keys = {f"k{i}": 1 for i in range(15_000)}
    response = _send(client, "POST", f"{API}/auth/token",
                     json.dumps(keys | {"email": "a@b.fr", "password": "x"}).encode())
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {f"k{i}": ["Unknown field."] for i in range(5)}


def test_an_array_over_its_bound_is_refused_before_its_items_are_read(client, world, lv):
    start, end = "2099-01-01T10:00:00+01:00", "2099-01-01T10:15:00+01:00"
    batch = [{"start": start, "end": end}] * 2001
    response = _send(client, "POST", f"{API}/slots", json.dumps({"slots": batch}).encode(), world.headers(lv["gp"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"slots": ["Longer than maximum length 2000."]}


def test_reading_a_bounded_array_stops_at_the_fifth_bad_item(client, world, lv):
    response = _send(client, "POST", f"{API}/slots", json.dumps({"slots": [1] * 2000}).encode(),
                     world.headers(lv["gp"]))
    assert response.status_code == 422
    assert sorted(response.get_json()["error"]["fields"]["slots"]) == ["0", "1", "2", "3", "4"]


def test_bounds_of_the_lists_of_the_record_and_accounts(client, world, lv):
    headers = world.headers(lv["coordinator"])
    too_many = client.patch(f"{API}/cpts/{lv['cpts'].id}", json={"aci_missions": ["x"] * 51}, headers=headers)
    assert too_many.status_code == 422 and too_many.get_json()["error"]["fields"] == {
        "aci_missions": ["Longer than maximum length 50."]}
    targets = client.patch(f"{API}/cpts/{lv['cpts'].id}", json={"indicator_targets": {f"t{i}": 1 for i in range(50)}},
                           headers=headers)
    assert targets.status_code == 422
    user = client.post(f"{API}/users", json={"email": "new@example.org", "password": "a-long-password-1",
                                             "role": "regulator", "cpts_ids": [lv["cpts"].id] * 51}, headers=headers)
    assert user.status_code == 422 and db.session.scalar(select(func.count()).select_from(User)) == 2


def test_a_fhir_regulator_with_a_thousand_identifiers_is_refused_before_they_are_read(app, world):
    configure(app, SAS_REGULATION_AREA="Vendée littoral")
    world.cpts(regulation_area="Vendée littoral")
    resource = {"resourceType": "Practitioner", "active": True, "identifier": [{"system": "x", "value": "y"}] * 1000,
                "name": [{"family": "A", "given": ["B"]}], "telecom": [{"system": "email", "value": "a@b.fr"}]}
    with bounded():
        response = app.test_client().post(f"{API}/fhir/Practitioner", json=resource, headers=SAS_HEADERS)
    assert response.status_code == 422
    outcome = assert_operation_outcome(response.get_json())
    assert "Practitioner.identifier" in json.dumps(outcome)


def test_every_request_string_array_and_map_of_the_api_is_bounded(client):
    """The OpenAPI document: each string of a request has a maxLength (or an enum), each array a maxItems,
    each map a maxProperties."""
    document = client.get(f"{API}/openapi.json").get_json()
    schemas, unbounded = document["components"]["schemas"], []

    def walk(node: dict, where: str, seen: frozenset = frozenset()) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], f"{where}>{name}", seen | {name})
            return
        if node.get("readOnly"):
            return
        for part in node.get("allOf", []) + node.get("oneOf", []) + node.get("anyOf", []):
            walk(part, where, seen)
        kind = node.get("type")
        if kind == "string" and "maxLength" not in node and "enum" not in node:
            unbounded.append(where)
        if kind == "array":
            if "maxItems" not in node:
                unbounded.append(where)
            walk(node.get("items", {}), f"{where}[]", seen)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}", seen)
        if isinstance(node.get("additionalProperties"), dict):
            if "maxProperties" not in node:
                unbounded.append(where)
            walk(node["additionalProperties"], f"{where}{{}}", seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                walk(parameter.get("schema", {}), f"{method} {path} ?{parameter['name']}")
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                # The history CSV is bounded by the request body limit (MAX_CONTENT_LENGTH) and its rows by
                # the import itself (issue 28, finding 9).
                if media_type != "text/csv":
                    walk(content.get("schema", {}), f"{method} {path} {media_type}")
    assert unbounded == []


def _forms() -> list[type]:
    found, todo = [], [FlaskForm]
    while todo:
        form = todo.pop()
        found.append(form)
        todo.extend(form.__subclasses__())
    return found


def test_every_text_input_of_the_pages_has_a_maximum_length(app):
    unbounded = []
    with app.test_request_context():
        for form_class in _forms():
            for field in form_class(meta={"csrf": False}):
                if isinstance(field, (StringField, EmailField, PasswordField, TextAreaField)) and not any(
                        isinstance(check, Length) and check.max > 0 for check in field.validators):
                    unbounded.append(f"{form_class.__name__}.{field.name}")
    assert unbounded == []


# --- generated JSON shapes -------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1), st.text(max_size=20),
                    st.floats(allow_nan=False, allow_infinity=False))
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)), max_leaves=25)
# Each endpoint with a role it allows: a refused role is answered 403 before the body is read.
# A shape repeated many times: the cheap way to ask for a huge body.
huge = st.tuples(documents, st.integers(1, 60_000), st.sampled_from(["slots", "aci_missions", "cpts_ids", "x"])).map(
    lambda spec: {spec[2]: [spec[0]] * spec[1]})
ENDPOINTS = [("POST", "/auth/token", None), ("POST", "/slots", "gp"), ("POST", "/seasons", "coordinator"),
             ("POST", "/users", "coordinator"), ("PATCH", "/cpts/{cpts}", "coordinator"), ("POST", "/bookings", "regulator"),
             ("POST", "/practitioners", "coordinator")]


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=st.one_of(documents, huge), endpoint=st.sampled_from(ENDPOINTS))
def test_any_json_shape_costs_little_and_never_a_500(client, world, lv, body, endpoint):
    method, path, role = endpoint
    if role and role not in lv:
        lv[role] = world.user(role, lv["cpts"])
    headers = world.headers(lv[role]) if role else {}
    data = json.dumps(body).encode()
    if len(data) > 2 * 1024 * 1024:
        return  # the request body limit answers 413 before the application reads anything
    with bounded(seconds=3):
        response = client.open(API + path.format(cpts=lv["cpts"].id), method=method, data=data,
                               content_type="application/json", headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if data.count(b",") + data.count(b"[") + data.count(b"{") > hygiene.MAX_JSON_VALUES:
        assert response.status_code == 413
