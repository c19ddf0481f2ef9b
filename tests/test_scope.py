"""Issue 15, item 1: a coordinator must not widen their regulators' scope (SPEC section 8).

The exact scenario seen: the coordinator of CPTS C set C's regulation area to the LV/LVO area,
created a regulator for C, and that regulator then listed and cancelled bookings of A and B.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.models import AuditEvent, Booking, Cpts

from . import scope_world
from .factories import PASSWORD

API = "/api/v1"


@pytest.fixture
def sw(world, monkeypatch):
    return scope_world.build(world, monkeypatch)


def _headers(client, email, password=PASSWORD):
    token = client.post(f"{API}/auth/token", json={"email": email, "password": password}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _window(sw):
    start = sw.free["A"].start_at - timedelta(hours=1)
    return {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}


def test_coordinator_cannot_move_their_cpts_into_another_regulation_area(client, sw):
    c = sw.cpts["C"]
    coordinator = _headers(client, sw.users["coordinator_C"].email)

    # The coordinator of C tries to join the LV/LVO area: refused, nothing changes.
    response = client.patch(f"{API}/cpts/{c.id}", json={"regulation_area": scope_world.AREA}, headers=coordinator)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["fields"] == {"regulation_area": ["only an admin may set it"]}
    db.session.expire_all()
    assert db.session.get(Cpts, c.id).regulation_area == scope_world.OTHER_AREA
    # Also with other fields alongside: the whole PATCH is refused, not just the area.
    response = client.patch(f"{API}/cpts/{c.id}", json={"name": "CPTS C renommée", "regulation_area": None},
                            headers=coordinator)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Cpts, c.id).name == "CPTS C"
    # Editing the rest of the record stays theirs.
    assert client.patch(f"{API}/cpts/{c.id}", json={"population": 61_000}, headers=coordinator).status_code == 200

    # The same coordinator creates a regulator for C (allowed) ...
    created = client.post(f"{API}/users", headers=coordinator, json={
        "email": "regulation-c@test.example", "password": "a-long-enough-passphrase", "role": "regulator",
        "cpts_ids": [c.id]})
    assert created.status_code == 201, created.get_json()
    regulator = _headers(client, "regulation-c@test.example", "a-long-enough-passphrase")

    # ... who sees and cancels only C's bookings, never A's or B's.
    listed = client.get(f"{API}/bookings", query_string=_window(sw), headers=regulator)
    assert listed.status_code == 200
    assert {b["id"] for b in listed.get_json()} == {sw.booked["C"].id, sw.more["shared_for_C"].id}
    a_booking = sw.booked["A"]
    assert client.get(f"{API}/bookings/{a_booking.id}", headers=regulator).status_code == 404
    cancel = client.post(f"{API}/bookings/{a_booking.id}/cancel", json={"reason": "test", "by": "regulator"},
                         headers=regulator)
    assert cancel.status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, a_booking.id).status == "booked"
    search = client.get(f"{API}/slots/search", query_string={"from": _window(sw)["from"], "commune": "85222"},
                        headers=regulator)
    assert search.status_code == 200
    assert sw.free["A"].id not in {r["slot"]["id"] for r in search.get_json()["results"]}


def test_only_an_admin_creates_a_cpts(client, sw):
    body = {"name": "CPTS D", "population": 1000, "regulation_area": scope_world.AREA}
    for role in ("coordinator_A", "regulator_A", "gp_A"):
        response = client.post(f"{API}/cpts", json=body, headers=_headers(client, sw.users[role].email))
        assert response.status_code == 403, role
    assert db.session.scalar(select(Cpts.id).where(Cpts.name == "CPTS D")) is None
    assert client.post(f"{API}/cpts", json=body, headers=_headers(client, sw.users["admin"].email)).status_code == 201


def test_admin_changes_the_area_and_the_change_is_audited(client, sw):
    c, admin = sw.cpts["C"], sw.users["admin"]
    response = client.patch(f"{API}/cpts/{c.id}", json={"regulation_area": scope_world.AREA},
                            headers=_headers(client, admin.email))
    assert response.status_code == 200
    assert response.get_json()["regulation_area"] == scope_world.AREA
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cpts.scope_change"))
    assert (event.actor_id, event.object_id) == (admin.id, c.id)
    assert event.before == {"regulation_area": scope_world.OTHER_AREA}
    assert event.after == {"regulation_area": scope_world.AREA}
    # Now C's regulator does share the area: the scope follows the admin's decision.
    listed = client.get(f"{API}/bookings", query_string=_window(sw),
                        headers=_headers(client, sw.users["regulator_C"].email))
    assert {b["id"] for b in listed.get_json()} == ({sw.booked[name].id for name in "ABC"}
                                                   | {sw.more["shared_for_A"].id, sw.more["shared_for_C"].id})


def test_cpts_creation_is_audited_with_its_area(client, sw):
    admin = sw.users["admin"]
    created = client.post(f"{API}/cpts", json={"name": "CPTS D", "population": 10, "regulation_area": "Sud"},
                          headers=_headers(client, admin.email)).get_json()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cpts.create",
                                                       AuditEvent.object_id == created["id"]))
    assert event.actor_id == admin.id
    assert event.after["regulation_area"] == "Sud"


def test_regulators_do_not_list_practitioners(client, sw):
    """SPEC section 4: GET /practitioners is for admins and coordinators."""
    regulator = _headers(client, sw.users["regulator_A"].email)
    assert client.get(f"{API}/practitioners", headers=regulator).status_code == 403
    coordinator = _headers(client, sw.users["coordinator_A"].email)
    listed = client.get(f"{API}/practitioners", headers=coordinator)
    assert listed.status_code == 200
    assert {p["id"] for p in listed.get_json()} == {sw.users["gp_A"].practitioner_id, sw.more["shared"].id}


def test_account_rules_hold_in_the_service_for_every_caller(sw):
    """The pages call the account service directly: who may create or (de)activate an account is decided there."""
    from snp_service.accounts import users
    from snp_service.core.errors import Forbidden, NotFound

    coordinator_a, coordinator_c = sw.users["coordinator_A"], sw.users["coordinator_C"]
    gp_a = sw.users["gp_A"]
    with pytest.raises(NotFound):  # a GP account of A is not C's to switch off (nor to know of)
        users.set_user_active(coordinator_c, gp_a.id, False)
    with pytest.raises(NotFound):
        users.set_user_active(coordinator_a, sw.users["admin"].id, False)
    with pytest.raises(Forbidden):
        users.set_user_active(coordinator_a, coordinator_a.id, False)
    with pytest.raises(Forbidden):
        users.set_user_active(sw.users["regulator_A"], gp_a.id, False)
    db.session.expire_all()
    assert db.session.get(type(gp_a), gp_a.id).active
    assert users.set_user_active(coordinator_a, gp_a.id, False).active is False
    assert users.set_user_active(sw.users["admin"], gp_a.id, True).active is True

    # Creating: a coordinator of C may not link a GP account to A's practitioner, nor create an admin.
    with pytest.raises(NotFound):
        users.create_user(coordinator_c, email="x@test.example", password="a-long-enough-passphrase", role="gp",
                             cpts_ids=[sw.cpts["C"].id], practitioner_id=gp_a.practitioner_id)
    with pytest.raises(Forbidden):
        users.create_user(coordinator_c, email="y@test.example", password="a-long-enough-passphrase",
                             role="admin", cpts_ids=[sw.cpts["C"].id])
    with pytest.raises(Forbidden):
        users.create_user(coordinator_c, email="z@test.example", password="a-long-enough-passphrase",
                             role="regulator", cpts_ids=[sw.cpts["A"].id])
