"""History import: the SPEC's CSV, all or nothing, bad lines listed by number."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from snp_service.core.extensions import db
from snp_service.models import Booking, Slot
from snp_service.reporting import fill_rate

HEADER = "rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor"


@pytest.fixture
def lv(world):
    cpts = world.cpts("CPTS LV")
    return {"cpts": cpts, "coordinator": world.user("coordinator", cpts),
            "gp": world.practitioner(cpts, rpps="10100000001"),
            "outsider": world.practitioner(world.cpts("CPTS voisine"), rpps="10100000099")}


def post(client, world, user, cpts_id, lines, content_type="text/csv"):
    body = "\n".join([HEADER, *lines]) + "\n"
    return client.post(f"/api/v1/imports/history?cpts_id={cpts_id}", data=body.encode("utf-8"),
                       content_type=content_type, headers=world.headers(user))


GOOD = [
    "10100000001,2025-07-15T10:00:00+02:00,2025-07-15T10:15:00+02:00,office,0,1,2025-07-15T08:30:00+02:00,116117,honored,no",
    "10100000001,2025-07-15T10:15:00+02:00,2025-07-15T10:30:00+02:00,office,0,0,,,,",
    "10100000001,2025-07-15T10:30:00+02:00,2025-07-15T10:45:00+02:00,teleconsultation,1,0,,,,",
    "10100000001,2025-07-16T23:50:00+02:00,2025-07-17T00:10:00+02:00,office,0,1,2025-07-16T20:00:00+02:00,sas,no_show,yes",
]


def test_a_good_file_is_imported_and_counts_in_reports(client, world, lv):
    answer = post(client, world, lv["coordinator"], lv["cpts"].id, GOOD)

    assert answer.status_code == 201
    assert answer.get_json() == {"slots": 4, "bookings": 2, "withdrawn": 1}
    assert sorted(s.status for s in db.session.query(Slot)) == ["booked", "booked", "expired", "withdrawn"]
    booking = db.session.query(Booking).join(Slot).filter(Slot.mode == "office", Booking.outcome == "honored").one()
    assert (booking.patient_id, booking.channel, booking.has_treating_doctor) == (None, "116117", "no")
    assert booking.created_at.isoformat() == "2025-07-15T06:30:00+00:00"

    summary = fill_rate.summary([lv["cpts"].id], date(2025, 7, 15), date(2025, 7, 16))
    # Offered: 3 (the withdrawn one is not); filled: 2; one honoured 116117 act within 48 h on a Tuesday morning.
    assert (summary["offered"], summary["filled"], summary["regulated_acts"], summary["no_show_rate"]) == (3, 2, 1, 0.5)
    assert summary["supplement_cents"] == 1500


def test_bad_lines_are_listed_by_number_and_nothing_is_stored(client, world, lv):
    lines = [
        GOOD[0],                                                                                   # line 2: fine
        "10100000099,2025-07-15T11:00:00+02:00,2025-07-15T11:15:00+02:00,office,0,0,,,,",           # 3: other CPTS
        "10100000001,2025-07-15T12:00:00,2025-07-15T12:15:00+02:00,office,0,0,,,,",                 # 4: no offset
        "10100000001,2025-07-15T13:00:00+02:00,2025-07-15T13:15:00+02:00,office,0,1,,,,",           # 5: no channel
        "10100000001,2025-07-15T14:00:00+02:00,2025-07-15T14:15:00+02:00,cabinet,2,0,,,,",          # 6: mode, flag
        "10100000001,2025-07-15T15:00:00+02:00,2025-07-15T15:15:00+02:00,office,0,0,,sas,,",        # 7: not booked
        "10100000001,2025-07-15T16:00:00+02:00",                                                    # 8: columns
        "10100000001,2099-07-14T16:00:00+02:00,2099-07-14T16:15:00+02:00,office,0,0,,,,",           # 9: future
    ]

    answer = post(client, world, lv["coordinator"], lv["cpts"].id, lines)

    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error" and "7 ligne(s)" in error["message"]
    assert {item["line"]: item["errors"] for item in error["lines"]} == {
        3: ["rpps: not a practitioner of this CPTS"],
        4: ["start: the UTC offset is required (e.g. +02:00)"],
        5: ["booked_at: required", "channel: required"],
        6: ["mode: one of office, teleconsultation, home_visit", "withdrawn: 0 or 1"],
        7: ["channel: only for a booked slot"],
        8: ["10 columns expected, 2 found"],
        9: ["start: must be in the past"],
    }
    assert error["fields"]["line 3"] == ["rpps: not a practitioner of this CPTS"]
    assert db.session.query(Slot).count() == 0 and db.session.query(Booking).count() == 0


def test_overlaps_in_the_file_and_with_stored_slots_reject_the_file(client, world, lv):
    assert post(client, world, lv["coordinator"], lv["cpts"].id, GOOD[:1]).status_code == 201
    lines = [
        "10100000001,2025-07-20T10:00:00+02:00,2025-07-20T10:30:00+02:00,office,0,0,,,,",           # 2
        "10100000001,2025-07-20T10:15:00+02:00,2025-07-20T10:45:00+02:00,office,0,0,,,,",           # 3: overlaps 2
        "10100000001,2025-07-15T10:05:00+02:00,2025-07-15T10:20:00+02:00,office,0,0,,,,",           # 4: stored one
    ]

    answer = post(client, world, lv["coordinator"], lv["cpts"].id, lines)

    assert answer.status_code == 422
    assert answer.get_json()["error"]["lines"] == [
        {"line": 3, "errors": ["overlaps the slot of line 2"]},
        {"line": 4, "errors": ["overlaps a slot already stored for this practitioner"]}]
    assert db.session.query(Slot).count() == 1


def test_file_level_errors(client, world, lv):
    coordinator, cpts_id = lv["coordinator"], lv["cpts"].id
    headers = world.headers(coordinator)
    url = f"/api/v1/imports/history?cpts_id={cpts_id}"

    wrong_header = client.post(url, data=b"rpps;start\n1;2\n", content_type="text/csv", headers=headers)
    assert wrong_header.status_code == 422 and wrong_header.get_json()["error"]["lines"][0]["line"] == 1
    assert client.post(url, data=(HEADER + "\n").encode(), content_type="text/csv", headers=headers).status_code == 422
    latin1 = client.post(url, data=(HEADER + "\n" + GOOD[1] + ",é").encode("latin-1"), content_type="text/csv",
                         headers=headers)
    assert latin1.status_code == 422 and latin1.get_json()["error"]["fields"] == {"body": ["not UTF-8"]}
    assert post(client, world, coordinator, cpts_id, GOOD, content_type="application/json").status_code == 415
    with_bom = client.post(url, data=("\ufeff" + HEADER + "\n" + GOOD[1]).encode(), content_type="text/csv",
                           headers=headers)
    assert with_bom.status_code == 201
    assert db.session.query(Slot).count() == 1


def test_only_the_cpts_coordinator_imports(client, world, lv):
    other = world.user("coordinator", world.cpts("CPTS tierce"))
    regulator = world.user("regulator", lv["cpts"])

    assert post(client, world, other, lv["cpts"].id, GOOD).status_code == 403
    assert post(client, world, regulator, lv["cpts"].id, GOOD).status_code == 403
    assert db.session.query(Slot).count() == 0


def test_imported_acts_reach_the_supplement_statement(client, world):
    """SPEC: imported bookings count in the supplement statement exactly like live ones."""
    cpts = world.cpts()
    gp = world.practitioner(cpts, rpps="10000000777")
    headers = world.headers(world.user("coordinator", cpts))
    header = "rpps,start,end,mode,withdrawn,booked,booked_at,channel,outcome,patient_has_treating_doctor\n"
    rows = [
        # Tuesday 14 July 2020 is a public holiday (PDSA): no supplement.
        "10000000777,2020-07-14T10:00:00+02:00,2020-07-14T10:15:00+02:00,office,0,1,2020-07-14T08:00:00+02:00,116117,honored,no",
        "10000000777,2020-07-15T10:00:00+02:00,2020-07-15T10:15:00+02:00,office,0,1,2020-07-15T08:00:00+02:00,116117,honored,no",
        "10000000777,2020-07-16T10:00:00+02:00,2020-07-16T10:15:00+02:00,office,0,1,2020-07-16T08:00:00+02:00,sas,honored,no",
        "10000000777,2020-07-17T10:00:00+02:00,2020-07-17T10:15:00+02:00,office,0,1,2020-07-17T08:00:00+02:00,other,honored,no",
    ]
    response = client.post(f"/api/v1/imports/history?cpts_id={cpts.id}", data=header + "\n".join(rows) + "\n",
                           content_type="text/csv", headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    statement = client.get(f"/api/v1/supplements?cpts_id={cpts.id}&month=2020-07", headers=headers).get_json()
    assert statement["total_cents"] == 3000
    assert [line["amount_cents"] for line in statement["lines"] if line["practitioner_id"] == gp.id] == [3000]


def test_rows_dated_outside_the_years_the_service_knows_are_listed_and_nothing_is_stored(client, world, lv):
    # Year 1 overflowed the ledger's week arithmetic (OverflowError in record_accruals: a 500 on both
    # databases), and 9999-12-31 at night overflows once turned into UTC: issue 28, finding 8.
    lines = [
        GOOD[0],                                                                                    # line 2: fine
        "10100000001,0001-01-01T10:00:00+02:00,0001-01-01T10:15:00+02:00,office,0,0,,,,",            # 3
        "10100000001,2025-07-15T11:00:00+02:00,2025-07-15T11:15:00+02:00,office,0,1,"
        "9999-12-31T23:30:00-02:00,116117,honored,no",                                              # 4
        "10100000001,1899-12-31T23:00:00+00:00,1900-01-01T00:30:00+00:00,office,0,0,,,,",            # 5
    ]

    answer = post(client, world, lv["coordinator"], lv["cpts"].id, lines)

    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert "3 ligne(s)" in error["message"] and "rien n'a été importé" in error["message"]
    assert {item["line"]: item["errors"] for item in error["lines"]} == {
        3: ["start: out of range (years 1900-2199)", "end: out of range (years 1900-2199)"],
        4: ["booked_at: out of range (years 1900-2199)"],
        5: ["start: out of range (years 1900-2199)"],
    }
    assert db.session.query(Slot).count() == 0 and db.session.query(Booking).count() == 0


def test_every_overlap_is_named_by_its_line_whatever_lies_between(client, world, lv):
    """The file's rows and the stored slots are checked in one pass before anything is written: a row
    overlapping a long slot that an intermediate row does not reach is still named (it reached the
    database's own constraint before: a 409 without the line)."""
    stored = [
        "10100000001,2025-07-20T09:00:00+02:00,2025-07-20T09:15:00+02:00,office,0,0,,,,",
        "10100000001,2025-07-20T09:30:00+02:00,2025-07-20T09:45:00+02:00,office,0,0,,,,",
        "10100000001,2025-07-20T09:50:00+02:00,2025-07-20T09:55:00+02:00,office,1,0,,,,",           # withdrawn
    ]
    assert post(client, world, lv["coordinator"], lv["cpts"].id, stored).status_code == 201
    lines = [
        "10100000001,2025-07-21T09:00:00+02:00,2025-07-21T11:00:00+02:00,office,0,0,,,,",           # 2
        "10100000001,2025-07-21T09:10:00+02:00,2025-07-21T09:20:00+02:00,office,0,0,,,,",           # 3: in 2
        "10100000001,2025-07-21T10:00:00+02:00,2025-07-21T10:15:00+02:00,office,0,0,,,,",           # 4: in 2
        "10100000001,2025-07-20T09:05:00+02:00,2025-07-20T09:10:00+02:00,office,0,0,,,,",           # 5: stored 9:00
        "10100000001,2025-07-20T09:15:00+02:00,2025-07-20T09:30:00+02:00,office,0,0,,,,",           # 6: fits between
        "10100000001,2025-07-20T09:50:00+02:00,2025-07-20T10:00:00+02:00,office,0,0,,,,",           # 7: over withdrawn
        "10100000001,2025-07-20T09:40:00+02:00,2025-07-20T09:50:00+02:00,office,1,0,,,,",           # 8: withdrawn
    ]

    answer = post(client, world, lv["coordinator"], lv["cpts"].id, lines)

    assert answer.status_code == 422
    assert answer.get_json()["error"]["lines"] == [
        {"line": 3, "errors": ["overlaps the slot of line 2"]},
        {"line": 4, "errors": ["overlaps the slot of line 2"]},
        {"line": 5, "errors": ["overlaps a slot already stored for this practitioner"]}]
    assert db.session.query(Slot).count() == 3
    assert post(client, world, lv["coordinator"], lv["cpts"].id, lines[3:]).status_code == 422
    assert post(client, world, lv["coordinator"], lv["cpts"].id, lines[4:]).status_code == 201


def test_a_file_of_the_documented_50000_rows_fits_in_the_import_body_limit(client, world, lv, app):
    """50,000 rows of the format take ~6 MB: more than the other requests' 2 MB (MAX_CONTENT_LENGTH)."""
    limit = app.config["HISTORY_IMPORT_MAX_CONTENT_LENGTH"]
    row = "10100000001,2025-07-15T10:00:00.000000+02:00,2025-07-15T10:15:00.000000+02:00,office,0,1," \
          "2025-07-15T08:30:00.000000+02:00,116117,no_show,unknown"
    assert 50_000 * (len(row) + 1) + len(HEADER) < limit
    url = f"/api/v1/imports/history?cpts_id={lv['cpts'].id}"
    headers = world.headers(lv["coordinator"])
    # Blank lines are skipped: a body far over MAX_CONTENT_LENGTH, quick to read, holding one slot.
    body = (HEADER + "\n" + row + "\n" + ",,,,,,,,,\n" * ((app.config["MAX_CONTENT_LENGTH"] + 1000) // 10)).encode()

    assert client.post(url, data=body, content_type="text/csv", headers=headers).status_code == 201
    too_big = client.post(url, data=body + b" " * limit, content_type="text/csv", headers=headers)
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "payload_too_large"
    assert db.session.query(Slot).count() == 1


def test_an_overlap_stored_after_the_check_is_refused_by_the_database_and_nothing_is_kept(client, world, lv,
                                                                                       monkeypatch):
    """The rows go in through the driver's fast path (executemany on SQLite, COPY on PostgreSQL): the
    database's own rule still refuses a slot another writer stored between the check and the insert."""
    from snp_service.reporting import history_import

    world.slot(lv["gp"], datetime(2025, 7, 15, 8, 2, tzinfo=timezone.utc), minutes=10)  # in GOOD[0], 10:00 Paris
    monkeypatch.setattr(history_import, "_overlaps", lambda rows: {})  # as if it came after the check

    answer = post(client, world, lv["coordinator"], lv["cpts"].id, GOOD)

    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "overlap"
    assert db.session.query(Slot).count() == 1 and db.session.query(Booking).count() == 0
    assert post(client, world, lv["coordinator"], lv["cpts"].id, GOOD[1:]).status_code == 201
