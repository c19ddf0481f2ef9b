"""The slot search's rules beyond the test kit: who takes part, what is refused, one SQL statement per search."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, utcnow

from .sas_world import SAS_HEADERS, assert_operation_outcome, configure, entries, search_url, take_part


def _now() -> datetime:
    return utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def gp(app, world):
    configure(app)
    cpts = world.cpts()
    return take_part(world.practitioner(cpts))


def _get(client, url):
    return client.get(url, headers=SAS_HEADERS)


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = assert_operation_outcome(response.get_json())  # never the JSON error format of the API
    assert body["issue"][0]["severity"] == "error"
    return body


def test_a_practitioner_who_does_not_take_part_is_absent(client, world, gp):
    world.slot(gp, _now() + timedelta(hours=2))
    declined = take_part(world.practitioner(gp.cpts[0]), participate=False)
    world.slot(declined, _now() + timedelta(hours=2))
    bundle = _get(client, search_url([gp.rpps, declined.rpps], _now(), _now() + timedelta(days=1))).get_json()
    assert {p["id"] for p in entries(bundle, "Practitioner")} == {str(gp.id)} and bundle["total"] == 1


def test_twenty_six_identifiers_is_a_400(client, gp):
    numbers = [f"{10000000000 + n:011d}" for n in range(26)]
    body = _outcome(_get(client, search_url(numbers, _now(), _now() + timedelta(days=1))), 400)
    assert body["issue"][0]["code"] == "invalid" and "25" in body["issue"][0]["diagnostics"]
    assert _get(client, search_url(numbers[:25], _now(), _now() + timedelta(days=1))).status_code == 200


@pytest.mark.parametrize("start, end", [
    ("2030-13-01T10:00:00+01:00", "2030-01-02T10:00:00+01:00"),   # no 13th month
    ("2030-01-01T10:00:00+01:00", "tomorrow"),
    ("2030-01-01T25:00:00+01:00", "2030-01-02T10:00:00+01:00"),
    ("2030-01-01T10:00:00+1", "2030-01-02T10:00:00+01:00"),
    ("20300101", "2030-01-02"),
])
def test_a_malformed_instant_is_a_400(client, gp, start, end):
    _outcome(_get(client, search_url([gp.rpps], start, end)), 400)


def test_the_window_needs_one_ge_and_one_le(client, gp):
    url = search_url([gp.rpps], _now(), _now() + timedelta(days=1))
    _outcome(_get(client, url.replace("&start=le", "&start=ge")), 400)
    _outcome(_get(client, url.replace("&start=le", "&other=le")), 400)
    _outcome(_get(client, url.replace("schedule.actor:Practitioner.identifier", "practitioner")), 400)


def test_a_window_longer_than_a_month_is_a_422(client, gp):
    body = _outcome(_get(client, search_url([gp.rpps], _now(), _now() + timedelta(days=40))), 422)
    assert body["issue"][0]["code"] == "business-rule"


def test_unknown_identifiers_give_an_empty_bundle(client, gp):
    for identifiers in (["99999999999"], ["12345678901", "10987654321"]):
        bundle = _get(client, search_url(identifiers, _now(), _now() + timedelta(days=1))).get_json()
        assert bundle["total"] == 0 and "entry" not in bundle
    other_system = search_url([gp.rpps], _now(), _now() + timedelta(days=1)).replace(
        "urn:oid:1.2.250.1.71.4.2.1|8", "urn:oid:1.2.250.1.71.4.2.2|8")
    assert _get(client, other_system).get_json()["total"] == 0


def test_the_guides_own_example_forms_are_understood(client, world, gp):
    """No offset (the guide's INT_R01 example: Paris time), '+' left unencoded (read as a space), dates alone."""
    day = (_now() + timedelta(days=2)).astimezone(PARIS).date()
    slot = world.slot(gp, datetime(day.year, day.month, day.day, 14, 0, tzinfo=PARIS))
    found = [str(slot.id)]
    offset = slot.start_at.astimezone(PARIS).isoformat()[-6:]  # +01:00 or +02:00, as the platform writes it
    for start, end in ((f"{day}T13:59:00", f"{day}T14:00:00"),
                       (f"{day}T14:00:00.000{offset}", f"{day}T18:00:00Z"),
                       (f"{day}", f"{day}")):
        bundle = _get(client, search_url([gp.rpps], start, end, encode_plus=False)).get_json()
        assert [s["id"] for s in entries(bundle, "Slot")] == found, (start, end)
    spaced = search_url([gp.rpps], f"{day}T13:00:00", f"{day}T15:00:00", encode_plus=False).replace(",", ", ")
    assert _get(client, spaced).get_json()["total"] == 1


def test_one_sql_statement_per_search_whatever_the_number_of_practitioners(app, client, world, gp):
    with world.batch():
        practitioners = [take_part(world.practitioner(gp.cpts[0])) for _ in range(25)]
        for practitioner in [gp] + practitioners:
            world.slot(practitioner, _now() + timedelta(hours=2))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    for wanted, cpts in (([gp], False), (practitioners, False), (practitioners, True)):
        _get(client, search_url([p.rpps for p in wanted], _now(), _now() + timedelta(days=1), cpts=cpts))  # warm
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = _get(client, search_url([p.rpps for p in wanted], _now(), _now() + timedelta(days=1),
                                               cpts=cpts))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.get_json()["total"] == len(wanted)
        assert len(statements) == 1, statements


def test_no_patient_data_in_the_answer(client, world, gp):
    booked = world.slot(gp, _now() + timedelta(hours=2))
    world.booking(booked, first_name="Zébulon", last_name="Secretpatient", phone="+33699887766")
    world.slot(gp, _now() + timedelta(hours=3))
    text = _get(client, search_url([gp.rpps], _now(), _now() + timedelta(days=1))).get_data(as_text=True)
    assert "Secretpatient" not in text and "99887766" not in text
