"""The practice space's invariant: nothing done in practice reaches anything real.

Every real read path is snapshotted before and after a practice run that books, cancels, moves, loses a race and
sends, reads and cancels a slot request; the answers must be equal. The second test shows the check catches a leak: with the one binding hook taken off,
the same practice session reaches the real database, and a real path changes.
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, paris_today, utcnow
from snp_service.models import AuditEvent, OutboxMessage, SasPush, SlotRequest, SlotRequestRecipient
from snp_service.practice import space
from snp_service.reporting import indicators

from .factories import World
from .practice_world import book, build_area, enter_practice, finish, search, send_slot_request, start_scenario
from .sas_world import SAS_HEADERS, configure, search_url, take_part

# CSRF tokens (signed and timestamped: new each second), wherever a form carries one.
_TOKENS = re.compile(r'"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{20,}"')
_VOLATILE_FHIR = ("id", "timestamp", "meta")


def _real_world(app):
    configure(app)
    app.config["PRACTICE_DIR"] = None  # set by each test
    with app.app_context():
        world = World()
        area = build_area(world)
        for doctor in area.doctors:
            take_part(doctor)
        for doctor in area.doctors[:2]:  # a slot request made in practice has recipients
            doctor.takes_requests, doctor.phone = True, "+33612000001"
        db.session.commit()
        headers = {"regulator": world.headers(area.regulator), "coordinator": world.headers(area.coordinator)}
        feed_token = area.doctors[0].calendar_token
        ids = {"cpts": area.cpts.id, "rpps": [d.rpps for d in area.doctors], "treating": area.doctors[0].rpps}
    return area, headers, feed_token, ids


def _snapshot(app, readers, headers, feed_token, ids, now) -> dict:
    """Every real read path's answer (volatile parts, such as CSRF tokens and FHIR bundle ids, removed)."""
    regulator, gp, anonymous = readers
    month = now.astimezone(PARIS).strftime("%Y-%m")
    first, last = (paris_today() - timedelta(days=7)).isoformat(), (paris_today() + timedelta(days=7)).isoformat()
    cpts = ids["cpts"]
    answers = {
        "search API": anonymous.get("/api/v1/slots/search", query_string={
            "commune": "85222", "radius_km": 60, "treating_rpps": ids["treating"], "to": (now + timedelta(hours=48)).isoformat()},
            headers=headers["regulator"]).get_json(),
        "grid JSON": regulator.get("/regulation/agenda.json", query_string={"day": paris_today().isoformat(), "days": 3})
        .get_json(),
        "GP page": _TOKENS.sub('"token"', gp.get("/gp").get_data(as_text=True)),
        "calendar feed": "\n".join(line for line in anonymous.get(f"/calendar/{feed_token}.ics").get_data(as_text=True)
                                   .splitlines() if not line.startswith("DTSTAMP")),
        "SAS Slot search": {k: v for k, v in anonymous.get(search_url(ids["rpps"], now, now + timedelta(days=3)),
                                                            headers=SAS_HEADERS).get_json().items()
                            if k not in _VOLATILE_FHIR},
        "SMART bulk publication": anonymous.get("/api/v1/fhir/slots.ndjson").get_data(as_text=True),
        "fill-rate report": anonymous.get("/api/v1/reports/fill-rate", query_string={
            "cpts_id": cpts, "from": first, "to": last, "group_by": "channel"}, headers=headers["coordinator"]).get_json(),
        "export": anonymous.get("/api/v1/reports/fill-rate", query_string={
            "cpts_id": cpts, "from": first, "to": last, "group_by": "practitioner", "format": "csv"},
            headers=headers["coordinator"]).get_data(as_text=True),
        "supplement statement": anonymous.get("/api/v1/supplements", query_string={"cpts_id": cpts, "month": month},
                                              headers=headers["coordinator"]).get_json(),
        "slot requests API": anonymous.get("/api/v1/slot-requests", headers=headers["regulator"]).get_json(),
    }
    with app.app_context():
        # Computed live for the month: when they were computed is the time of the read, not data.
        answers["indicators"] = {k: v for k, v in indicators.read(cpts, month).items() if k != "computed_at"}
        answers["indicators"]["indicators"] = [{k: v for k, v in row.items() if k != "computed_at"}
                                               for row in answers["indicators"]["indicators"]]
        answers["SMS outbox"] = [(m.id, m.kind, m.status, m.body) for m in db.session.scalars(select(OutboxMessage))]
        answers["SAS outbox"] = [(p.id, p.status) for p in db.session.scalars(select(SasPush))]
        answers["slot requests"] = ([(r.id, r.status) for r in db.session.scalars(select(SlotRequest))],
                                    [(r.request_id, r.practitioner_id) for r in
                                     db.session.scalars(select(SlotRequestRecipient))])
        answers["audit trail"] = [(e.id, e.action, e.object_type, e.object_id) for e in
                                  db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    return answers


def _readers(app, area):
    """The real readers, and the trainee's client (signing in is real, and audited: done before the snapshot)."""
    regulator, gp, anonymous, trainee = app.test_client(), app.test_client(), app.test_client(), app.test_client()
    with app.app_context():
        World.sign_in_page(regulator, area.regulator)
        World.sign_in_page(gp, area.gp)
        World.sign_in_page(trainee, area.regulator)
    return (regulator, gp, anonymous), trainee


def _practice_run(app, area, trainee) -> None:
    """A practice session that books, loses a race, cancels and moves, each scored."""
    token = enter_practice(trainee, area.regulator, signed_in=True)
    start_scenario(trainee, token, 1)
    slot = search(trainee, commune="85222", treating_rpps=area.doctors[0].rpps)[0]["slot"]["id"]
    assert book(trainee, token, slot).status_code == 201
    finish(trainee, token)
    start_scenario(trainee, token, 6)
    slot = search(trainee, commune="85222", treating_rpps=area.doctors[0].rpps)[0]["slot"]["id"]
    lost = book(trainee, token, slot)
    assert lost.status_code == 409
    assert book(trainee, token, lost.get_json()["error"]["alternatives"][0]["slot"]["id"]).status_code == 201
    finish(trainee, token)
    start_scenario(trainee, token, 7)
    now = utcnow()
    listed = trainee.get("/api/v1/bookings", query_string={"from": now.isoformat(), "status": "booked",
                                                           "to": (now + timedelta(days=2)).isoformat()}).get_json()
    girard = next(b for b in listed if b["patient"] and b["patient"]["last_name"] == "Girard")
    assert trainee.post(f"/api/v1/bookings/{girard['id']}/cancel", json={"by": "patient", "reason": None},
                        headers={"X-CSRFToken": token}).status_code == 200
    finish(trainee, token)
    start_scenario(trainee, token, 8)
    listed = trainee.get("/api/v1/bookings", query_string={"from": now.isoformat(), "status": "booked",
                                                           "to": (now + timedelta(days=2)).isoformat()}).get_json()
    roux = next(b for b in listed if b["patient"] and b["patient"]["last_name"] == "Roux")
    target = search(trainee, commune="85222", radius_km=60)[-1]["slot"]["id"]
    assert trainee.post(f"/api/v1/bookings/{roux['id']}/move", json={"slot_id": target},
                        headers={"X-CSRFToken": token}).status_code == 201
    finish(trainee, token)
    start_scenario(trainee, token, 9)
    sent = send_slot_request(trainee, token)
    assert sent.status_code == 201, sent.get_json()
    request_id = sent.get_json()["id"]
    assert trainee.get(f"/api/v1/slot-requests/{request_id}").get_json()["status"] == "open"
    assert [r["id"] for r in trainee.get("/api/v1/slot-requests?status=open").get_json()] == [request_id]
    assert trainee.post(f"/api/v1/slot-requests/{request_id}/cancel", headers={"X-CSRFToken": token}).status_code == 200
    later = trainee.get("/api/v1/slots/search", query_string={"commune": "85222", "profession": "gp"}).get_json()["later"]
    assert book(trainee, token, later[0]["slot"]["id"]).status_code == 201
    finish(trainee, token)


def test_a_whole_practice_run_changes_no_real_read_path(app, tmp_path):
    area, headers, feed_token, ids = _real_world(app)
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    readers, trainee = _readers(app, area)
    now = utcnow()
    before = _snapshot(app, readers, headers, feed_token, ids, now)
    assert before["search API"]["results"] and before["grid JSON"]["slots"] and "BEGIN:VEVENT" in before["calendar feed"]
    assert before["SAS Slot search"]["entry"] and before["SMART bulk publication"]

    _practice_run(app, area, trainee)

    after = _snapshot(app, readers, headers, feed_token, ids, now)
    for path in before:
        assert after[path] == before[path], f"practice reached a real read path: {path}"


def test_the_check_fails_when_the_binding_is_bypassed(app, tmp_path):
    """Show it fails once: the one hook taken off, the practice session's booking lands in the real database."""
    area, headers, feed_token, ids = _real_world(app)
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    readers, trainee = _readers(app, area)
    now = utcnow()
    before = _snapshot(app, readers, headers, feed_token, ids, now)
    hooks = app.before_request_funcs[None]
    hooks[hooks.index(space.bind_practice_request)] = lambda: None

    token = enter_practice(trainee, area.regulator, signed_in=True)
    start_scenario(trainee, token, 1)
    slot = search(trainee, commune="85222", treating_rpps=area.doctors[0].rpps)[0]["slot"]["id"]
    assert book(trainee, token, slot).status_code == 201
    assert send_slot_request(trainee, token).status_code == 201

    after = _snapshot(app, readers, headers, feed_token, ids, now)
    changed = {path for path in before if after[path] != before[path]}
    assert {"search API", "grid JSON", "SMS outbox", "audit trail", "slot requests API", "slot requests"} <= changed
