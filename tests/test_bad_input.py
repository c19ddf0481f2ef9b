"""Bad input never gets a 500: a bounded, deterministic sweep of every /api/v1 operation.

SPEC §4: "Bad input gets a clear 4xx error in French or English and changes nothing.
The service never answers 500 to bad input." For each operation of the OpenAPI
document, an authorised caller sends malformed bodies, queries and path ids; each
answer must be a 4xx in the JSON error format, must leave the database as it was,
and must not echo the patient data we sent (nor may the logs).
"""
from __future__ import annotations

import copy
import functools
import json
import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from snp_service import create_app
from snp_service.accounts import passwords
from snp_service.core.extensions import db
from snp_service.core.timeutil import to_paris, utcnow
from snp_service.models import (
    AuditEvent, Booking, Commune, Cpts, OutboxMessage, Patient, Practitioner, Season, SignInAttempt, Slot, User,
)
from snp_service.requests import sending

from .factories import PASSWORD

API = "/api/v1"
MARKERS = ("Zorglub", "699999999", "1917-03-21")  # patient last name, phone, birth date we send
PATIENT = {"first_name": "Zorglubette", "last_name": "Zorglub", "birth_date": "1917-03-21", "phone": "+33699999999",
           "commune_insee": "85222", "has_treating_doctor": "no", "treating_rpps": None}
HUGE = "Zorglub" * 15_000  # ~100 kB: under MAX_CONTENT_LENGTH, far over any field's limit
GARBAGE = {"a": [{"b": [1, None, {"c": {"d": ["\u0000", 1e300]}}]}], "$where": "1=1"}
TOO_BIG = 2 ** 63


def _operations() -> list[tuple[str, str, dict, dict]]:
    """(METHOD, path, operation, path-level parameters) of every /api/v1 operation in the OpenAPI document."""
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters" and path.startswith(API):
                operations.append((method.upper(), path, operation, item.get("parameters", [])))
    _operations.spec = spec
    return operations


OPERATIONS = _operations()
SPEC = _operations.spec


# --- the world --------------------------------------------------------------------------------------------


_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=None)
def _cached_hash(password: str) -> str:
    return _real_hash(password)


@pytest.fixture
def bw(world, monkeypatch, app):
    """A CPTS with communes, its coordinator, a regulator, an admin, a GP with free slots and a booking, a season."""
    monkeypatch.setattr(passwords, "hash_password", _cached_hash)  # scrypt once, not per user
    cpts = world.cpts(regulation_area="Vendée", communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
                                                          ("85194", "Les Sables-d'Olonne", 46.4969, -1.7831)))
    gp = world.gp(cpts)
    doctor = gp.practitioner
    start = utcnow().replace(microsecond=0, second=0) + timedelta(days=2)
    free = world.slot(doctor, start)
    other_free = world.slot(doctor, start + timedelta(hours=1))
    booked_slot = world.slot(doctor, start + timedelta(hours=2))
    booking = world.booking(booked_slot)
    season = Season(cpts_id=cpts.id, name="Été", start_date=start.date(), end_date=start.date() + timedelta(days=60))
    world._save(season)
    users = {"coordinator": world.user("coordinator", cpts), "regulator": world.user("regulator", cpts),
             "admin": world.user("admin"), "gp": gp}
    headers = {role: world.headers(user) for role, user in users.items()}
    doctor.takes_requests = True  # an open slot request sent to the GP (issue 23)
    db.session.commit()
    window = utcnow().replace(microsecond=0, second=0) + timedelta(minutes=30)
    slot_request = sending.create(users["regulator"], cpts.id, {cpts.id}, {
        "patient": {**PATIENT, "birth_date": date(1917, 3, 21), "has_treating_doctor": "no"}, "reason": "Fièvre",
        "channel": "116117", "commune_insee": "85222", "profession": "gp", "mode": "office", "not_before": window,
        "not_after": window + timedelta(hours=4), "radius_km": 10, "notify_patient": False})
    ids = {"cpts_id": cpts.id, "practitioner_id": doctor.id, "slot_id": free.id, "booking_id": booking.id,
           "season_id": season.id, "filename": "slots.ndjson", "request_id": slot_request.id}
    return {"cpts": cpts, "doctor": doctor, "free": free, "other_free": other_free, "booking": booking,
            "season": season, "users": users, "headers": headers, "ids": ids, "start": start, "window": window}


def _role(method: str, path: str) -> str | None:
    """A plausible authorised caller for the operation (None: public)."""
    rest = path.removeprefix(API)
    if rest.startswith("/fhir") or (rest == "/auth/token" and method == "POST"):
        return None
    if rest == "/auth/token" or rest.startswith("/slots") and not rest.startswith("/slots/search"):
        return "gp"
    if rest == "/cpts" and method == "POST":
        return "admin"
    if rest.startswith("/slot-requests/") and (rest.endswith("/accept") or rest.endswith("/seen")):
        return "gp"
    if rest.startswith("/slots/search") or rest.startswith("/slot-requests") or (
            rest.startswith("/bookings") and not rest.endswith("/outcome")):
        return "regulator"
    return "coordinator"


def _valid_bodies(method: str, path: str, bw) -> list[dict]:
    """Valid bodies of the operation: each mutation spoils one thing of one of them."""
    local = to_paris(bw["start"] + timedelta(days=1)).replace(second=0, microsecond=0)
    iso = lambda moment: moment.isoformat()  # noqa: E731
    bodies = {
        ("POST", "/auth/token"): [{"email": bw["users"]["coordinator"].email, "password": PASSWORD}],
        ("POST", "/cpts"): [{"name": "CPTS Nouvelle", "population": 1000, "regulation_area": "Vendée",
                             "communes": [{"insee": "85001", "name": "L'Aiguillon", "lat": 46.3, "lon": -1.3}],
                             "aci_signed_on": "2020-01-01", "aci_missions": ["accès aux soins"],
                             "indicator_targets": {"fill_rate": 0.8}}],
        ("PATCH", "/cpts/{cpts_id}"): [{"name": "CPTS renommée", "population": 2000,
                                        "indicator_targets": {"fill_rate": 0.7}}],
        ("POST", "/practitioners"): [{"cpts_ids": [bw["cpts"].id], "rpps": "19999999998", "first_name": "Ada",
                                      "last_name": "Lovelace", "profession": "gp", "phone": "+33251000001",
                                      "address": "1 quai", "commune_insee": "85222", "lat": 46.7, "lon": -1.9}],
        ("POST", "/users"): [{"email": "nouveau@test.example", "password": "long-enough-password",
                              "role": "regulator", "cpts_ids": [bw["cpts"].id], "practitioner_id": None}],
        ("POST", "/slots"): [
            {"start": iso(local), "end": iso(local + timedelta(minutes=15)), "mode": "office"},
            {"slots": [{"start": iso(local + timedelta(hours=1)), "end": iso(local + timedelta(hours=1, minutes=15))}]},
            {"block": {"start": iso(local + timedelta(hours=2)), "end": iso(local + timedelta(hours=3)),
                       "slot_minutes": 15}},
            {"series": {"first_start": (local + timedelta(hours=4)).replace(tzinfo=None).isoformat(), "block_minutes": 60,
                        "slot_minutes": 15, "rrule": "FREQ=WEEKLY;COUNT=2"}, "mode": "teleconsultation"},
        ],
        ("POST", "/bookings"): [{"slot_id": bw["free"].id, "patient": dict(PATIENT), "reason": "Fièvre",
                                 "channel": "116117", "notify_patient": True}],
        ("POST", "/bookings/{booking_id}/cancel"): [{"reason": "Va mieux", "by": "patient"}],
        ("POST", "/bookings/{booking_id}/move"): [{"slot_id": bw["other_free"].id, "notify_patient": False}],
        ("POST", "/bookings/{booking_id}/outcome"): [{"outcome": "honored"}],
        ("POST", "/seasons"): [{"cpts_id": bw["cpts"].id, "name": "Hiver", "start_date": "2027-12-01",
                                "end_date": "2028-02-28"}],
        ("PATCH", "/seasons/{season_id}"): [{"name": "Été 2", "start_date": "2027-07-01", "end_date": "2027-08-31"}],
        ("POST", "/slot-requests"): [{"patient": {**PATIENT, "has_treating_doctor": "no"}, "reason": "Fièvre",
                                      "channel": "116117", "commune_insee": "85222", "profession": "gp",
                                      "mode": "office", "not_before": iso(to_paris(bw["window"])),
                                      "not_after": iso(to_paris(bw["window"] + timedelta(hours=2))), "radius_km": 10,
                                      "notify_patient": False}],
        ("POST", "/slot-requests/{request_id}/accept"): [{"start": iso(to_paris(bw["window"] + timedelta(hours=1)))}],
    }
    return bodies.get((method, path.removeprefix(API)), [{}])


def _valid_query(method: str, path: str, bw) -> dict:
    ids = bw["ids"]
    today = bw["start"].date()
    queries = {
        "/cpts/{cpts_id}/indicators": {"period": f"{today:%Y-%m}"},
        "/practitioners": {"cpts_id": ids["cpts_id"]},
        "/practitioners/lookup": {"q": "Ma", "limit": 5},
        "/slots/search": {"from": bw["start"].isoformat(), "commune": "85222", "limit": 5},
        "/slots": {"from": f"{today}", "to": f"{today + timedelta(days=7)}"},
        "/slots/import": {"slot_minutes": 15, "mode": "office"},
        "/bookings": {"from": (bw["start"] - timedelta(days=1)).isoformat()},
        "/seasons": {"cpts_id": ids["cpts_id"]},
        "/seasons/{season_id}/report": {"format": "json", "group_by": "day"},
        "/seasons/compare": {"a": ids["season_id"], "b": ids["season_id"]},
        "/reports/fill-rate": {"cpts_id": ids["cpts_id"], "from": f"{today}", "to": f"{today + timedelta(days=7)}"},
        "/supplements": {"cpts_id": ids["cpts_id"], "month": f"{today:%Y-%m}"},
        "/imports/history": {"cpts_id": ids["cpts_id"]},
    }
    takes_query = any(param["in"] == "query" for param in _spec_op(method, path).get("parameters", []))
    return dict(queries.get(path.removeprefix(API), {})) if takes_query else {}


def _spec_op(method: str, path: str) -> dict:
    return SPEC["paths"][path][method.lower()]


# --- mutations --------------------------------------------------------------------------------------------


def _resolve(schema: dict) -> dict:
    while True:
        if "$ref" in schema:
            schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema


def _nullable(schema: dict) -> bool:
    kind = schema.get("type")
    return bool(schema.get("nullable")) or (isinstance(kind, list) and "null" in kind)


def _wrong_values(schema: dict) -> list:
    """Values a field of this schema must refuse."""
    schema = _resolve(schema)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    values = [] if _nullable(schema) else [None]
    if kind == "string" or kind is None:
        values += [12345, True, [], GARBAGE, HUGE]
        if schema.get("format") == "date":
            values += ["2020-02-30", "31/12/2020", "", "Zorglub", "0001-01-01", "9999-12-31"]
        elif schema.get("format") == "date-time" or kind is None:
            values += ["2027-01-01T25:00:00+01:00", "demain", "", "9999-12-31T23:59:59-14:00",
                       "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59"]
        elif "enum" in schema:
            values += ["Zorglub", ""]
    elif kind == "integer":
        values += ["abc", 1.5, True, [], GARBAGE, TOO_BIG, -TOO_BIG, 10 ** 40, -1]
    elif kind == "number":
        values += ["abc", True, [], GARBAGE, "NaN", "Infinity", 1e308, -1e308]
    elif kind == "boolean":
        values += ["maybe", 2, [], GARBAGE]
    elif kind == "array":
        values += ["x", GARBAGE, 5, [None], [GARBAGE], [[[[]]]]]
    elif kind == "object":
        values += ["x", [], 5]
    return values


def _field_mutations(schema: dict, body: dict, prefix: tuple = ()):
    """(label, body) pairs: each field of ``body`` made wrong, missing (if required), plus an unknown field."""
    schema = _resolve(schema)
    properties = schema.get("properties") or {}
    for name, value in body.items():
        prop = _resolve(properties.get(name, {}))
        if prop.get("readOnly"):
            continue
        for wrong in _wrong_values(prop):
            yield f"{'.'.join(prefix + (name,))}={_short(wrong)}", _replace(body, name, wrong)
        if name in schema.get("required", []):
            yield f"{'.'.join(prefix + (name,))} missing", {k: v for k, v in body.items() if k != name}
        if isinstance(value, dict) and prop.get("properties"):
            for label, inner in _field_mutations(prop, value, prefix + (name,)):
                yield label, _replace(body, name, inner)
        items = _resolve(prop.get("items", {}))
        if isinstance(value, list) and value and isinstance(value[0], dict) and items.get("properties"):
            for label, inner in _field_mutations(items, value[0], prefix + (name, "0")):
                yield label, _replace(body, name, [inner])
    yield f"{'.'.join(prefix + ('zorglub_unknown',))} unknown", {**body, "zorglub_unknown": "Zorglub"}
    for name in schema.get("required", []):
        if name not in body:
            yield f"{name} missing", body


def _replace(body: dict, name: str, value) -> dict:
    changed = copy.deepcopy(body)
    changed[name] = value
    return changed


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) < 40 else text[:37] + "..."


# (label, raw body, content type) sent instead of a JSON body
RAW_BODIES = [
    ("malformed json", b'{"slot_id": 1, "patient": {"last_name": "Zorglub"', "application/json"),
    ("trailing garbage", b'{"name": "x"} Zorglub', "application/json"),
    ("null body", b"null", "application/json"),
    ("list body", b'[{"last_name": "Zorglub"}]', "application/json"),
    ("string body", b'"Zorglub"', "application/json"),
    ("number body", b"42", "application/json"),
    ("empty json body", b"", "application/json"),
    ("NaN literal", b'{"population": NaN, "lat": Infinity, "slot_id": NaN}', "application/json"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("invalid utf-8", b'{"name": "\xff\xfe\xfa"}', "application/json"),
    ("utf-16 json", '{"name": "Zorglub"}'.encode("utf-16"), "application/json"),
    ("plain text", b'{"last_name": "Zorglub"}', "text/plain"),
    ("form encoded", b"last_name=Zorglub&slot_id=abc", "application/x-www-form-urlencoded"),
    ("xml", b"<patient><last_name>Zorglub</last_name></patient>", "application/xml"),
    ("no content type", b'{"last_name": "Zorglub"}', None),
]

BAD_QUERY_VALUES = {
    "integer": ["abc", "1.5", "", "1e400", str(TOO_BIG), str(-TOO_BIG), "0x10", "Zorglub"],
    "number": ["abc", "", "nan", "inf", "-inf", "1e400", "Zorglub"],
    "boolean": ["maybe", "2", "Zorglub"],
    "string": ["", "Zorglub" * 500, "2020-02-30", "2027-01-01T10:00:00", "demain", "\u0000", "%00",
               "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2020-13", "2020-Q5", "season:abc", "0000", "0000-01",
               "9999", "9999-Q4", "0001-01-01", "9999-12-31",
               f"season:{TOO_BIG}", "season:-1"],
}
# Query values for ids that are well-formed but name nothing: never a 5xx, usually a 403/404.
ODD_IDS = ["0", "-1", str(2 ** 31), str(TOO_BIG - 1)]


# The outcome of a booking is recorded once its slot has started: the world's booking is tomorrow.
VALID_BODY_REFUSED = {("POST", "/bookings/{booking_id}/outcome")}
# Operations whose every field is optional: no body at all is a valid request that acts (a cancel recorded as
# the caller's role), so it is left to the control at the end, like the valid body.
EMPTY_BODY_ACTS = {("POST", "/bookings/{booking_id}/cancel")}


# --- the checks -------------------------------------------------------------------------------------------


MAIN_TABLES = (Cpts, Commune, Practitioner, User, Slot, Patient, Booking, Season, AuditEvent, OutboxMessage)


def _state() -> tuple:
    db.session.rollback()
    db.session.expire_all()
    counts = tuple(db.session.scalar(select(func.count()).select_from(model)) for model in MAIN_TABLES)
    statuses = tuple(db.session.execute(select(Slot.status, func.count()).group_by(Slot.status).order_by(Slot.status)))
    bookings = tuple(db.session.execute(select(Booking.status, func.count()).group_by(Booking.status)
                                        .order_by(Booking.status)))
    return counts, statuses, bookings


class Sweep:
    def __init__(self, client):
        self.client, self.problems = client, []

    def send(self, label: str, method: str, url: str, *, headers: dict, data=None, json_body=None,
             content_type: str | None = None, must_refuse: bool = True, check_state: bool = False):
        db.session.execute(delete(SignInAttempt))  # the sign-in throttle would hide the answer behind a 429
        db.session.commit()
        before = _state() if check_state else None
        kwargs = {"headers": dict(headers)}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            kwargs["content_type"] = "application/json"
        elif data is not None:
            kwargs["data"] = data
            if content_type:
                kwargs["content_type"] = content_type
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as error:  # an exception escaping the app's error handlers
            self.problems.append(f"{method} {url[:80]} [{label}]: raised {error!r}")
            return None
        status = response.status_code
        text = response.get_data(as_text=True)
        where = f"{method} {url[:80]} [{label}]"
        if status >= 500:
            self.problems.append(f"{where}: {status}")
        elif must_refuse and not 400 <= status < 500:
            self.problems.append(f"{where}: expected 4xx, got {status}")
        if 400 <= status < 600:
            body = response.get_json(silent=True)
            if "/api/v1/fhir/" in url:  # the FHIR base answers OperationOutcome resources (SPEC section 7)
                if not (isinstance(body, dict) and body.get("resourceType") == "OperationOutcome" and body.get("issue")):
                    self.problems.append(f"{where}: {status} not an OperationOutcome: {text[:120]!r}")
            elif not (isinstance(body, dict) and isinstance(body.get("error"), dict)
                      and {"code", "message", "fields"} <= body["error"].keys()):
                self.problems.append(f"{where}: {status} not in the error format: {text[:120]!r}")
        leaked = [marker for marker in MARKERS if marker in text]
        if leaked:
            self.problems.append(f"{where}: {status} answer echoes patient data {leaked}")
        if check_state and 400 <= status < 500:
            after = _state()
            if after != before:
                self.problems.append(f"{where}: {status} but the database changed {before} -> {after}")
        return response


def _url(path: str, ids: dict, query: dict | None = None) -> str:
    from urllib.parse import urlencode
    url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
    return url + ("?" + urlencode(query) if query else "")


def _op_id(operation) -> str:
    method, path, _op, _params = operation
    return f"{method} {path.removeprefix(API)}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_op_id)
def test_bad_input_is_a_clean_4xx(operation, client, bw, caplog):
    caplog.set_level(logging.DEBUG)
    method, path, spec_op, path_params = operation
    role = _role(method, path)
    headers = bw["headers"][role] if role else {}
    sweep = Sweep(client)
    ids = dict(bw["ids"])
    query = _valid_query(method, path, bw)
    writes = method in ("POST", "PATCH", "PUT", "DELETE")

    # 1. Bodies: every field wrong, missing or unknown; then raw garbage and other content types.
    if "requestBody" in spec_op and "application/json" in spec_op["requestBody"]["content"]:
        schema = spec_op["requestBody"]["content"]["application/json"]["schema"]
        url = _url(path, ids, query)
        for valid in _valid_bodies(method, path, bw):
            for label, body in _field_mutations(schema, valid):
                sweep.send(label, method, url, headers=headers, json_body=body, check_state=writes)
        for label, raw, content_type in RAW_BODIES:
            if raw == b"" and (method, path.removeprefix(API)) in EMPTY_BODY_ACTS:
                continue
            # No body at all reads as {}: a PATCH of nothing is a valid no-op. Any other raw body is refused.
            refuse = raw != b"" or bool(_resolve(schema).get("required"))
            sweep.send(label, method, url, headers=headers, data=raw, content_type=content_type,
                       must_refuse=refuse, check_state=writes)

    # 2. Query parameters: values of the wrong type or out of range, one at a time.
    takes_json = "application/json" in spec_op.get("requestBody", {}).get("content", {})
    body = _valid_bodies(method, path, bw)[0] if takes_json else None
    for param in spec_op.get("parameters", []):
        if param["in"] != "query":
            continue
        schema = _resolve(param.get("schema", {}))
        kind = schema.get("type") or "string"
        for value in BAD_QUERY_VALUES.get(kind, BAD_QUERY_VALUES["string"]):
            if kind == "string" and "enum" not in schema and param["name"] in ("sep",):
                continue
            refuse = kind != "string" or "enum" in schema or param["name"] in ("from", "to", "month", "period",
                                                                                 "commune", "treating_rpps")
            if value == "" and not param.get("required") and kind == "string" and "enum" not in schema:
                refuse = param["name"] in ("month", "period")
            sweep.send(f"?{param['name']}={value[:30]!r}", method, _url(path, ids, {**query, param["name"]: value}),
                       headers=headers, json_body=body, must_refuse=refuse, check_state=writes)
        if kind == "integer":
            for value in ODD_IDS:
                sweep.send(f"?{param['name']}={value}", method, _url(path, ids, {**query, param["name"]: value}),
                           headers=headers, json_body=body, must_refuse=False, check_state=writes)
        if param.get("required"):
            sweep.send(f"?{param['name']} missing", method,
                       _url(path, ids, {k: v for k, v in query.items() if k != param["name"]}),
                       headers=headers, json_body=body, check_state=writes)

    # 3. Path parameters: ids naming nothing, and values of the wrong type.
    for param in path_params:
        if param["in"] != "path":
            continue
        bad = (["0", "-1", str(2 ** 31), str(TOO_BIG), str(10 ** 40), "abc", "1.5", "%00", "Zorglub"]
               if param["schema"].get("type") == "integer" else ["Zorglub", "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 2000])
        for value in bad:
            sweep.send(f"{param['name']}={value[:30]}", method, _url(path, {**ids, param["name"]: value}, query),
                       headers=headers, json_body=body, check_state=writes)

    # 4. Headers: a bad Idempotency-Key on a valid booking is refused; odd keys on a bad one never crash.
    if (method, path) == ("POST", f"{API}/bookings"):
        valid = _valid_bodies(method, path, bw)[0]
        sweep.send("Idempotency-Key too long", method, path, headers={**headers, "Idempotency-Key": "k" * 101},
                   json_body=valid, check_state=True)
        for key in ("", " ", "Zorglub\u00e9\u00ff", "\t" * 50, "k" * 100_000):
            sweep.send(f"Idempotency-Key={key[:10]!r}", method, path, headers={**headers, "Idempotency-Key": key},
                       json_body={**valid, "slot_id": "abc"}, check_state=True)

    # 5. Garbage sent to an operation that takes no body: ignored or refused, never a 5xx (last: it may act).
    if "requestBody" not in spec_op:
        sweep.send("unexpected body", method, _url(path, ids, query), headers=headers, data=b"[" * 100_000,
                   content_type="application/json", must_refuse=False)

    # 6. Control: the untouched body is accepted, so each mutation above was refused for its own fault.
    json_body = "application/json" in spec_op.get("requestBody", {}).get("content", {})
    if json_body and (method, path.removeprefix(API)) not in VALID_BODY_REFUSED:
        url = _url(path, ids, query)
        for valid in _valid_bodies(method, path, bw):
            control = client.open(url, method=method, json=valid, headers=headers)
            assert control.status_code < 300, (method, path, valid, control.get_json())

    logged = caplog.text
    leaked = [marker for marker in MARKERS if marker in logged]
    assert not leaked, f"patient data in the logs: {leaked}"
    assert not sweep.problems, f"{len(sweep.problems)} problems:\n" + "\n".join(sweep.problems[:60])


def test_sweep_covers_every_operation():
    """The sweep is driven by the OpenAPI document: a new operation is swept without editing this file."""
    assert len(OPERATIONS) >= 30
    assert all(path.startswith(API) for _m, path, _o, _p in OPERATIONS)


# --- pages ------------------------------------------------------------------------------------------------


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})


def _page_csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = (re.search(r'name="csrf-token" content="([^"]+)"', page)
             or re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page))
    assert found, f"no CSRF token on {url}"
    return found.group(1)


PAGE_FORMS = {
    "gp": ("/gp", [
        ("/gp/block", {"block-day": "2027-02-30", "block-start": "25:61", "block-end": "x", "block-slot_minutes": "abc",
                       "block-mode": "Zorglub"}),
        ("/gp/block", {"block-day": "9999-12-31", "block-start": "23:00", "block-end": "01:00",
                       "block-slot_minutes": "15", "block-mode": "office"}),
        ("/gp/block", {"block-day": "0001-01-01", "block-start": "00:00", "block-end": "23:59",
                       "block-slot_minutes": "10", "block-mode": "office"}),
        ("/gp/slot", {"slot-day": "demain", "slot-start": "", "slot-minutes": "-15", "slot-mode": ""}),
        ("/gp/slot", {"slot-day": "9999-12-31", "slot-start": "23:55", "slot-minutes": "60", "slot-mode": "office"}),
        ("/gp/series", {"series-weekdays": ["XX", "MO"], "series-start": "17:00", "series-block_minutes": "99999999999",
                        "series-slot_minutes": "15", "series-first_day": "2027-01-01", "series-last_day": "2026-01-01",
                        "series-mode": "office"}),
        ("/gp/series", {"series-weekdays": "MO", "series-start": "17:00", "series-block_minutes": "60",
                        "series-slot_minutes": "15", "series-first_day": "9999-12-01",
                        "series-last_day": "9999-12-31", "series-mode": "office"}),
        ("/gp/slots/0/withdraw", {}),
        (f"/gp/slots/{2 ** 63}/withdraw", {}),
        ("/gp/import", {"ics-slot_minutes": "abc"}),
        ("/gp/calendar-token", {"extra": "Zorglub"}),
    ]),
    "coordinator": ("/coordination", [
        ("/coordination/seasons", {"name": "", "start_date": "2027-02-30", "end_date": "x"}),
        ("/coordination/seasons", {"name": HUGE[:5000], "start_date": "2027-09-01", "end_date": "2027-06-01"}),
        ("/coordination/seasons", {"name": "S", "start_date": "0001-01-01", "end_date": "9999-12-31"}),
        ("/coordination/seasons?cpts_id=abc", {"name": "S"}),
        (f"/coordination/seasons?cpts_id={2 ** 63}", {"name": "S"}),
        (f"/coordination/seasons/{2 ** 63}", {"name": "S", "start_date": "2027-06-01", "end_date": "2027-09-01"}),
        ("/coordination/seasons/0", {"name": "S"}),
        ("/coordination/accounts", {"email": "not-an-email", "password": "short", "role": "admin",
                                    "practitioner_id": "abc"}),
        ("/coordination/accounts", {"email": "x@test.example", "password": "long-enough-password", "role": "gp",
                                    "practitioner_id": str(2 ** 63)}),
        ("/coordination/accounts/0/active", {"active": "Zorglub"}),
        (f"/coordination/accounts/{2 ** 63}/active", {"active": "1"}),
        ("/coordination/cpts/{cpts_id}", {"fill_rate": "abc", "offered_slots": "-5", "no_show_rate": "1e400"}),
        ("/coordination/cpts/{cpts_id}", {"fill_rate": "NaN", "supplement_cents": "Infinity"}),
        ("/coordination/cpts/{cpts_id}?period=season:abc", {"fill_rate": "9" * 400}),
        ("/coordination/sms/0/resend", {}),
        (f"/coordination/sms/{2 ** 63}/resend", {}),
    ]),
    "regulator": ("/regulation", [
        ("/logout", {"next": "//evil.example"}),
    ]),
}
PAGE_GETS = {
    "regulator": ["/regulation?slot=abc", f"/regulation?slot={2 ** 63}", "/regulation?slot=-1",
                  "/regulation/agenda.json?day=2027-02-30", "/regulation/agenda.json?day=9999-12-31&days=3",
                  "/regulation/agenda.json?days=abc", "/regulation/agenda.json?practitioner_id=abc",
                  f"/regulation/agenda.json?practitioner_id={2 ** 63}", "/regulation/agenda.json?commune=%00",
                  "/regulation/agenda?practitioner_id=abc", f"/regulation/agenda?practitioner_id={2 ** 63}",
                  "/regulation/agenda?day=0000-00-00", "/regulation/agenda?origin=%00&days=2"],
    "coordinator": ["/coordination?cpts_id=abc", f"/coordination?cpts_id={2 ** 63}",
                    "/coordination/seasons/compare?a=abc&b=-1", f"/coordination/seasons/compare?a={2 ** 63}&b=0",
                    "/coordination/cpts/{cpts_id}?period=9999-99", "/coordination/cpts/{cpts_id}?period=season:-1",
                    f"/coordination/cpts/{{cpts_id}}?period=season:{2 ** 63}", f"/coordination/seasons/{2 ** 63}"],
    "gp": [],
}


@pytest.mark.parametrize("role", ["gp", "coordinator", "regulator"])
def test_page_forms_never_answer_500(role, client, bw, caplog):
    caplog.set_level(logging.DEBUG)
    _login(client, bw["users"][role])
    home, forms = PAGE_FORMS[role]
    token = _page_csrf(client, home)
    problems = []
    for url, data in forms:
        url = url.replace("{cpts_id}", str(bw["cpts"].id))
        response = client.post(url, data={**data, "csrf_token": token})
        if response.status_code >= 500:
            problems.append(f"POST {url[:80]} {sorted(data)}: {response.status_code}")
    for url in PAGE_GETS[role]:
        url = url.replace("{cpts_id}", str(bw["cpts"].id))
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"GET {url[:80]}: {response.status_code}")
    assert not [m for m in MARKERS if m in caplog.text]
    assert not problems, "\n".join(problems)
