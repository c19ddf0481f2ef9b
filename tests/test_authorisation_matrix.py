"""The authorisation matrix (issues 15 and 28): every API operation x every kind of caller, with the status expected.

Callers: anonymous, the GP of CPTS A, the GP of CPTS B, a regulator of A (A and B share the LV/LVO
regulation area), a regulator of C (another area), the coordinators of A and of C, an admin; and
(issue 28) a coordinator account of A linked to a practitioner of A and C, a coordinator of A and B,
and the GP account of that practitioner of A and C (``scope_world``). Each request of ``MATRIX``
targets A's data with a body valid for an allowed caller, so a refusal is the access rule speaking,
not the input; ``SHARED_MATRIX`` targets what belongs to C, or to the practitioner of A and C: the
data a scope inherited through a practitioner used to reach. Each cell runs in a fresh world. The
operations come from the app's URL map: an endpoint without a row fails ``test_every_operation_has_a_row``.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import to_paris, utcnow

from . import scope_world
from .api_operations import api_operations
from .factories import PASSWORD
from .sas_world import search_url

API = "/api/v1"
CALLERS = ("anonymous", "gp_A", "gp_B", "regulator_A", "regulator_C", "coordinator_A", "coordinator_C", "admin",
           "linked_A", "coordinator_AB", "gp_AC")
PATIENT = {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1950-01-01", "phone": "+33612345678"}


def _at(sw, hours: int) -> str:
    return to_paris(sw.free["A"].start_at + timedelta(hours=hours)).isoformat()


def _window(sw) -> dict:
    start = sw.free["A"].start_at - timedelta(hours=2)
    return {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}


def _ics(sw) -> bytes:
    start = sw.free["A"].start_at + timedelta(hours=6)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:m\r\n"
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def _history(sw, gp: str = "gp_A") -> bytes:
    return ("rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor\r\n"
            f"{sw.users[gp].practitioner.rpps},2020-07-13T09:00:00+02:00,2020-07-13T09:15:00+02:00,office,0,1,"
            "2020-07-13T08:00:00+02:00,116117,honored,no\r\n").encode()


def _slot_request(sw) -> dict:
    start = to_paris(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    return {"patient": PATIENT, "reason": "fièvre", "channel": "116117", "commune_insee": "85222",
            "not_before": start.isoformat(), "not_after": (start + timedelta(hours=3)).isoformat(), "radius_km": 10}


def _month(sw) -> str:
    return f"{to_paris(sw.free['A'].start_at):%Y-%m}"


def _feed(sw) -> str:
    gp = sw.users["gp_A"]
    return f"{API}/calendar/{gp.practitioner.calendar_token}.ics"


def _sas_regulator() -> dict:
    path = Path(__file__).parent / "fixtures" / "sas" / "Practitioner-ExamplePractitionerRegul1.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _sas_regulator_identifier() -> str:
    identifier = _sas_regulator()["identifier"][0]
    return f"{identifier['system']}|{identifier['value']}"


# operation: (request builder (sw -> (path, options)), expected status per caller, in CALLERS order).
# The expected statuses are the SPEC's rules (section 4 table, section 8): 401 without a token, 403 for
# a role the operation is not for or a CPTS out of scope, 404 where the object is not in the caller's
# scope (nothing says it exists).
MATRIX = {
    "POST /auth/token": (lambda sw: ("/auth/token", {"json": {"email": sw.users["gp_A"].email, "password": PASSWORD}}),
                         "200 200 200 200 200 200 200 200 200 200 200"),
    "DELETE /auth/token": (lambda sw: ("/auth/token", {}),
                           "401 204 204 204 204 204 204 204 204 204 204"),
    "GET /bookings": (lambda sw: ("/bookings", {"query_string": _window(sw)}),
                      "401 200 200 200 200 200 200 200 200 200 200"),
    "POST /bookings": (lambda sw: ("/bookings", {"json": {"slot_id": sw.free["A"].id, "patient": PATIENT,
                                                          "channel": "116117", "reason": "fièvre",
                                                          "notify_patient": False}}),
                       "401 403 403 201 404 201 404 201 201 201 403"),
    "GET /bookings/{booking_id}": (lambda sw: (f"/bookings/{sw.booked['A'].id}", {}),
                                   "401 200 404 200 404 200 404 200 200 200 404"),
    "POST /bookings/{booking_id}/cancel": (lambda sw: (f"/bookings/{sw.booked['A'].id}/cancel",
                                                       {"json": {"reason": "va mieux"}}),  # by: the caller's role
                                           "401 200 404 200 404 200 404 200 200 200 404"),
    "POST /bookings/{booking_id}/move": (lambda sw: (f"/bookings/{sw.booked['A'].id}/move",
                                                     {"json": {"slot_id": sw.more["free_A2"].id, "notify_patient": False}}),
                                         "401 403 403 201 404 201 404 201 201 201 403"),
    "POST /bookings/{booking_id}/outcome": (lambda sw: (f"/bookings/{sw.more['started_A'].id}/outcome",
                                                        {"json": {"outcome": "honored"}}),
                                            "401 200 404 403 403 200 404 200 200 200 404"),
    "GET /calendar/{token}.ics": (lambda sw: (_feed(sw).removeprefix(API), {}),  # the token is the key
                                  "200 200 200 200 200 200 200 200 200 200 200"),
    "POST /cpts": (lambda sw: ("/cpts", {"json": {"name": "CPTS D", "population": 1000, "regulation_area": "Sud"}}),
                   "401 403 403 403 403 403 403 201 403 403 403"),
    "GET /cpts/{cpts_id}": (lambda sw: (f"/cpts/{sw.cpts['A'].id}", {}),
                            "401 403 403 403 403 200 403 200 200 200 403"),
    "PATCH /cpts/{cpts_id}": (lambda sw: (f"/cpts/{sw.cpts['A'].id}", {"json": {"population": 60_000}}),
                              "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /cpts/{cpts_id}/indicators": (lambda sw: (f"/cpts/{sw.cpts['A'].id}/indicators",
                                                   {"query_string": {"period": _month(sw)}}),
                                       "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /fhir/$bulk-publish": (lambda sw: ("/fhir/$bulk-publish", {}),
                                "200 200 200 200 200 200 200 200 200 200 200"),
    "GET /fhir/{filename}": (lambda sw: ("/fhir/slots.ndjson", {}),
                             "200 200 200 200 200 200 200 200 200 200 200"),
    # The SAS platform's interface (SPEC section 7): only the platform's client certificate, checked by the
    # reverse proxy, opens it; no account of the service does, whatever its role (tests/test_sas_mtls.py
    # shows the certificate that does). The CapabilityStatement is public.
    "GET /fhir/metadata": (lambda sw: ("/fhir/metadata", {}),
                           "200 200 200 200 200 200 200 200 200 200 200"),
    "GET /fhir/Slot": (lambda sw: (search_url([sw.users["gp_A"].practitioner.rpps], utcnow(),
                                              utcnow() + timedelta(days=2)).removeprefix(API), {}),
                       "401 401 401 401 401 401 401 401 401 401 401"),
    "POST /fhir/Practitioner": (lambda sw: ("/fhir/Practitioner", {"json": _sas_regulator()}),
                                "401 401 401 401 401 401 401 401 401 401 401"),
    "PUT /fhir/Practitioner": (lambda sw: (f"/fhir/Practitioner?identifier={_sas_regulator_identifier()}",
                                           {"json": _sas_regulator()}),
                               "401 401 401 401 401 401 401 401 401 401 401"),
    "POST /imports/history": (lambda sw: ("/imports/history", {"query_string": {"cpts_id": sw.cpts["A"].id},
                                                               "data": _history(sw), "content_type": "text/csv"}),
                              "401 403 403 403 403 201 403 201 201 201 403"),
    "GET /practitioners": (lambda sw: ("/practitioners", {"query_string": {"cpts_id": sw.cpts["A"].id}}),
                           "401 403 403 403 403 200 403 200 200 200 403"),
    "POST /practitioners": (lambda sw: ("/practitioners", {"json": {"cpts_ids": [sw.cpts["A"].id], "rpps": "19999999998",
                                                                    "first_name": "Ada", "last_name": "Lovelace"}}),
                            "401 403 403 403 403 201 403 201 201 201 403"),
    "GET /practitioners/lookup": (lambda sw: ("/practitioners/lookup", {"query_string": {"q": "Medecin"}}),
                                  "401 403 403 200 200 200 200 200 200 200 403"),
    "GET /practitioners/{practitioner_id}": (lambda sw: (f"/practitioners/{sw.users['gp_A'].practitioner_id}", {}),
                                             "401 200 404 403 403 200 404 200 200 200 404"),
    "POST /practitioners/{practitioner_id}/calendar-token": (
        lambda sw: (f"/practitioners/{sw.users['gp_A'].practitioner_id}/calendar-token", {}),
        "401 200 404 403 403 200 404 403 200 200 404"),
    "GET /reports/fill-rate": (lambda sw: ("/reports/fill-rate", {"query_string": {
        "cpts_id": sw.cpts["A"].id, "from": sw.more["season_A"].start_date.isoformat(),
        "to": sw.more["season_A"].end_date.isoformat()}}),
                               "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /seasons": (lambda sw: ("/seasons", {"query_string": {"cpts_id": sw.cpts["A"].id}}),
                     "401 403 403 403 403 200 403 200 200 200 403"),
    "POST /seasons": (lambda sw: ("/seasons", {"json": {"cpts_id": sw.cpts["A"].id, "name": "Printemps",
                                                        "start_date": "2027-03-01", "end_date": "2027-05-31"}}),
                      "401 403 403 403 403 201 403 201 201 201 403"),
    "GET /seasons/compare": (lambda sw: ("/seasons/compare", {"query_string": {"a": sw.more["season_A"].id,
                                                                               "b": sw.more["season_A2"].id}}),
                             "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /seasons/{season_id}": (lambda sw: (f"/seasons/{sw.more['season_A'].id}", {}),
                                 "401 403 403 403 403 200 403 200 200 200 403"),
    "PATCH /seasons/{season_id}": (lambda sw: (f"/seasons/{sw.more['season_A'].id}", {"json": {"name": "Été 2"}}),
                                   "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /seasons/{season_id}/report": (lambda sw: (f"/seasons/{sw.more['season_A'].id}/report",
                                                    {"query_string": {"format": "json"}}),
                                        "401 403 403 403 403 200 403 200 200 200 403"),
    "GET /slots": (lambda sw: ("/slots", {"query_string": {"practitioner_id": sw.users["gp_A"].practitioner_id}}),
                   "401 200 404 403 403 200 404 403 200 200 404"),
    "POST /slots": (lambda sw: ("/slots", {"json": {"start": _at(sw, 5), "end": _at(sw, 5.25),
                                                    "practitioner_id": sw.users["gp_A"].practitioner_id}}),
                    "401 201 404 403 403 201 404 403 201 201 404"),
    "POST /slots/import": (lambda sw: ("/slots/import", {"query_string": {"practitioner_id": sw.users["gp_A"].practitioner_id},
                                                         "data": _ics(sw), "content_type": "text/calendar"}),
                           "401 201 404 403 403 201 404 403 201 201 404"),
    "GET /slots/search": (lambda sw: ("/slots/search", {"query_string": {"from": _window(sw)["from"], "commune": "85222"}}),
                          "401 403 403 200 200 200 200 200 200 200 403"),
    "DELETE /slots/{slot_id}": (lambda sw: (f"/slots/{sw.free['A'].id}", {}),
                                "401 200 404 403 403 200 404 403 200 200 404"),
    "GET /supplements": (lambda sw: ("/supplements", {"query_string": {"cpts_id": sw.cpts["A"].id, "month": _month(sw)}}),
                         "401 200 403 403 403 200 403 200 200 200 200"),
    # Issue 23: a request goes out from a requester's area (C's people find nobody taking requests near A's
    # commune: 422 no_recipient); it is read by its scope and by the GPs it was sent to; only they accept it.
    "POST /slot-requests": (lambda sw: ("/slot-requests", {"json": _slot_request(sw)}),
                            "401 403 403 201 422 201 422 403 201 201 403"),
    "GET /slot-requests": (lambda sw: ("/slot-requests", {"query_string": {"status": "open"}}),
                           "401 403 403 200 200 200 200 403 200 200 403"),
    "GET /slot-requests/{request_id}": (lambda sw: (f"/slot-requests/{sw.more['request_A'].id}", {}),
                                        "401 200 404 200 404 200 404 403 200 200 404"),
    "POST /slot-requests/{request_id}/accept": (
        lambda sw: (f"/slot-requests/{sw.more['request_A'].id}/accept", {"json": {
            "start": to_paris(sw.more["request_A"].not_before + timedelta(hours=1)).isoformat()}}),
        "401 201 404 403 403 403 403 403 403 403 404"),
    "POST /slot-requests/{request_id}/cancel": (lambda sw: (f"/slot-requests/{sw.more['request_A'].id}/cancel", {}),
                                                "401 403 403 200 404 200 404 403 200 200 403"),
    "POST /slot-requests/{request_id}/seen": (lambda sw: (f"/slot-requests/{sw.more['request_A'].id}/seen", {}),
                                              "401 200 404 403 403 403 403 403 403 403 404"),
    "POST /users": (lambda sw: ("/users", {"json": {"email": "nouveau@test.example", "password": "a-long-enough-passphrase",
                                                    "role": "regulator", "cpts_ids": [sw.cpts["A"].id]}}),
                    "401 403 403 403 403 201 403 201 201 201 403"),
}


def _shared_users(sw, role: str, cpts: str, practitioner: bool) -> dict:
    return {"json": {"email": "nouveau@test.example", "password": "a-long-enough-passphrase", "role": role,
                     "cpts_ids": [sw.cpts[cpts].id],
                     "practitioner_id": sw.more["shared"].id if practitioner else None}}


# Issue 28: what belongs to C, or to the practitioner of A and C. A key is an operation of MATRIX, then what
# it targets in brackets. Only the shared practitioner's own GP and C's people see a booking made for C.
SHARED_MATRIX = {
    "GET /bookings/{booking_id} [a booking made for C on the shared practitioner]": (
        lambda sw: (f"/bookings/{sw.more['shared_for_C'].id}", {}),
        "401 404 404 404 200 404 200 200 404 404 200"),
    "POST /bookings/{booking_id}/cancel [a booking made for C on the shared practitioner]": (
        lambda sw: (f"/bookings/{sw.more['shared_for_C'].id}/cancel", {"json": {"reason": "va mieux"}}),
        "401 404 404 404 200 404 200 200 404 404 200"),
    "POST /bookings/{booking_id}/move [a booking made for C on the shared practitioner]": (
        lambda sw: (f"/bookings/{sw.more['shared_for_C'].id}/move",
                    {"json": {"slot_id": sw.more["free_shared"].id, "notify_patient": False}}),
        "401 403 403 404 201 404 201 201 404 404 403"),
    "POST /bookings/{booking_id}/outcome [a started booking made for C on the shared practitioner]": (
        lambda sw: (f"/bookings/{sw.more['started_shared_for_C'].id}/outcome", {"json": {"outcome": "honored"}}),
        "401 404 404 403 403 404 200 200 404 404 200"),
    "POST /bookings [a free slot of the shared practitioner]": (
        lambda sw: ("/bookings", {"json": {"slot_id": sw.more["free_shared"].id, "patient": PATIENT,
                                           "channel": "116117", "notify_patient": False}}),
        "401 403 403 201 201 201 201 201 201 201 403"),
    "GET /cpts/{cpts_id} [C]": (lambda sw: (f"/cpts/{sw.cpts['C'].id}", {}),
                                "401 403 403 403 403 403 200 200 403 403 403"),
    "PATCH /cpts/{cpts_id} [C]": (lambda sw: (f"/cpts/{sw.cpts['C'].id}", {"json": {"population": 60_000}}),
                                  "401 403 403 403 403 403 200 200 403 403 403"),
    "GET /practitioners [C]": (lambda sw: ("/practitioners", {"query_string": {"cpts_id": sw.cpts["C"].id}}),
                               "401 403 403 403 403 403 200 200 403 403 403"),
    # From the national directory (none loaded here: an allowed caller reaches the service, which answers 422).
    "POST /practitioners [from the directory, C]": (
        lambda sw: ("/practitioners", {"json": {"cpts_ids": [sw.cpts["C"].id], "directory_rpps": "10000020007"}}),
        "401 403 403 403 403 403 422 422 403 403 403"),
    "POST /imports/history [C]": (lambda sw: ("/imports/history", {"query_string": {"cpts_id": sw.cpts["C"].id},
                                                                   "data": _history(sw, "gp_C"),
                                                                   "content_type": "text/csv"}),
                                  "401 403 403 403 403 403 201 201 403 403 403"),
    "GET /supplements [C]": (lambda sw: ("/supplements", {"query_string": {"cpts_id": sw.cpts["C"].id,
                                                                           "month": _month(sw)}}),
                             "401 403 403 403 403 403 200 200 403 403 200"),
    "POST /users [a regulator of C]": (lambda sw: ("/users", _shared_users(sw, "regulator", "C", False)),
                                       "401 403 403 403 403 403 201 201 403 403 403"),
    # Finding 1: only a GP account is linked to a practitioner; for any other role, a 422 for every creator.
    "POST /users [a coordinator of A linked to the shared practitioner]": (
        lambda sw: ("/users", _shared_users(sw, "coordinator", "A", True)),
        "401 403 403 403 403 422 403 422 422 422 403"),
    # A GP account reaches every CPTS of its practitioner: only who manages them all (an admin here) creates it.
    "POST /users [a GP account of A for the shared practitioner]": (
        lambda sw: ("/users", _shared_users(sw, "gp", "A", True)),
        "401 403 403 403 403 403 403 201 403 403 403"),
    "GET /practitioners/{practitioner_id} [the shared practitioner]": (
        lambda sw: (f"/practitioners/{sw.more['shared'].id}", {}),
        "401 404 404 403 403 200 200 200 200 200 200"),
    # Its feed shows every booking on its slots: the practitioner's own, or a coordinator of all its CPTS.
    "POST /practitioners/{practitioner_id}/calendar-token [the shared practitioner]": (
        lambda sw: (f"/practitioners/{sw.more['shared'].id}/calendar-token", {}),
        "401 404 404 403 403 403 403 403 403 403 200"),
}

# What a listing shows each caller, by CPTS of the rows (X: the practitioner of A and C, for practitioners and
# slots; a booking counts for the CPTS it was made for): a 200 that shows another CPTS' rows is a leak.
LISTED_CPTS = {
    "GET /bookings": {"gp_A": "A", "gp_B": "B", "regulator_A": "AB", "regulator_C": "C", "coordinator_A": "A",
                      "coordinator_C": "C", "admin": "ABC", "linked_A": "A", "coordinator_AB": "AB", "gp_AC": "AC"},
    "GET /practitioners/lookup": {"regulator_A": "ABX", "regulator_C": "CX", "coordinator_A": "AX", "coordinator_C": "CX",
                                  "admin": "ABCX", "linked_A": "AX", "coordinator_AB": "ABX"},
    "GET /slots/search": {"regulator_A": "ABX", "regulator_C": "CX", "coordinator_A": "AX", "coordinator_C": "CX",
                          "admin": "ABCX", "linked_A": "AX", "coordinator_AB": "ABX"},
}


def _operation_keys() -> list[str]:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [op.key for op in api_operations(app)]


OPERATION_KEYS = _operation_keys()


def test_every_operation_has_a_row():
    """A new endpoint must say who may call it before it ships."""
    missing = sorted(set(OPERATION_KEYS) - set(MATRIX))
    assert not missing, f"operations without a row in the authorisation matrix: {missing}"
    assert not set(MATRIX) - set(OPERATION_KEYS), "rows for operations that no longer exist"
    assert not {_operation(key) for key in SHARED_MATRIX} - set(OPERATION_KEYS), "shared rows of unknown operations"
    assert all(len(row.split()) == len(CALLERS) for _build, row in (*MATRIX.values(), *SHARED_MATRIX.values()))


def _operation(key: str) -> str:
    return key.split(" [")[0]


ROWS = MATRIX | SHARED_MATRIX


@pytest.mark.parametrize("key", [key for key in OPERATION_KEYS if key in MATRIX] + list(SHARED_MATRIX))
def test_matrix_row(key, app, client, world, monkeypatch):
    """One row: the refused callers first, in one world (they must change nothing), then each allowed
    caller in a fresh world of its own."""
    build, row = ROWS[key]
    expected = dict(zip(CALLERS, (int(status) for status in row.split())))
    refused = [caller for caller in CALLERS if not 200 <= expected[caller] < 300]
    allowed = [caller for caller in CALLERS if 200 <= expected[caller] < 300]
    problems = []
    sw = scope_world.build(world, monkeypatch)
    before = _state()
    for caller in refused:
        problems += _cell(key, caller, expected[caller], build, sw, client, world)
    if _state() != before:
        problems.append(f"{key}: refused callers changed the database {before} -> {_state()}")
    for index, caller in enumerate(allowed):
        if index or refused:
            _reset_database(app)
            sw = scope_world.build(world, monkeypatch)
        problems += _cell(key, caller, expected[caller], build, sw, client, world)
    assert not problems, "\n".join(problems)


def _cell(key, caller, expected, build, sw, client, world) -> list[str]:
    method = key.split()[0]
    path, options = build(sw)
    headers = {} if caller == "anonymous" else world.headers(sw.users[caller])
    world.forget_sign_in_attempts()
    response = client.open(f"{API}{path}", method=method, headers=headers, **options)
    if response.status_code != expected:
        return [f"{key} as {caller}: {response.status_code}, expected {expected}: "
                f"{response.get_data(as_text=True)[:200]}"]
    if 200 <= expected < 300 and key in LISTED_CPTS and caller in LISTED_CPTS[key]:
        listed = _listed_cpts(key, response.get_json(), sw)
        if listed != set(LISTED_CPTS[key][caller]):
            return [f"{key} as {caller}: lists rows of CPTS {sorted(listed)}, expected {LISTED_CPTS[key][caller]}"]
    return []


def _state() -> tuple:
    """Row counts of every table (a refused call writes nothing; audit rows of token issuance aside)."""
    return tuple(db.session.scalar(select(func.count()).select_from(table))
                 for table in db.metadata.sorted_tables if table.name not in ("audit_event", "api_token"))


def _reset_database(app) -> None:
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        db.drop_all()
        db.create_all()
    else:
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()


def _listed_cpts(key: str, body, sw) -> set[str]:
    cpts_of_practitioner = {sw.users[f"gp_{name}"].practitioner_id: name for name in "ABC"}
    cpts_of_practitioner[sw.more["shared"].id] = "X"
    if key == "GET /bookings":
        slots = {b.slot_id: name for name, b in sw.booked.items()}
        slots[sw.more["started_A"].slot_id] = "A"
        slots |= {sw.more["shared_for_A"].slot_id: "A", sw.more["shared_for_C"].slot_id: "C",
                  sw.more["started_shared_for_C"].slot_id: "C"}
        return {slots[b["slot_id"]] for b in body}
    if key == "GET /practitioners/lookup":
        return {cpts_of_practitioner[r["id"]] for r in body["results"]}
    return {cpts_of_practitioner[r["practitioner"]["id"]] for r in body["results"]}
