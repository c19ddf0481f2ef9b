"""Issue 28, findings 1, 2 and 5: scope is the CPTS a person was given, and a booking's patient stays with the CPTS
it was made for.

The world (``scope_world``): A and B share the LV/LVO regulation area, C is in another; the practitioner
"shared" belongs to A and C; ``linked_A`` is a coordinator account of A linked to that practitioner, as
``POST /users`` made it before the fix; ``coordinator_AB`` coordinates A and B; ``gp_AC`` is the shared
practitioner's own account.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from snp_service.accounts import setup_links, users
from snp_service.bookings import booking as bookings
from snp_service.core.errors import Forbidden, Invalid, NotFound
from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS
from snp_service.models import Booking, OutboxMessage, PasswordSetupLink, User
from snp_service.notify import outbox

from . import scope_world
from .factories import page_csrf

API = "/api/v1"
PATIENT = {"first_name": "Lucie", "last_name": "Renaud", "birth_date": "1961-04-02", "phone": "+33611223344"}


@pytest.fixture
def sw(world, monkeypatch):
    return scope_world.build(world, monkeypatch)


def _api(client, world, user, method, path, **options):
    world.forget_sign_in_attempts()
    return client.open(f"{API}{path}", method=method, headers=world.headers(user), **options)


def _page_client(app, world, user):
    client = app.test_client()
    world.sign_in_page(client, user)
    g.pop("csrf_token", None)  # the tests' app context outlives requests: one client's token is not the next's
    g.pop("_login_user", None)
    return client


def _accounts_named(email: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


# --- finding 1: an account of A linked to a practitioner of A and C ---------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "regulator"])
def test_finding1_a_coordinator_cannot_link_a_new_account_to_a_practitioner(client, world, sw, role):
    """POST /users {role: coordinator, cpts_ids: [A], practitioner_id: <a GP of A and C>} was a 201, and the
    account then read C (GET /cpts/C: 200). Only a GP account is linked to a practitioner now."""
    response = _api(client, world, sw.users["coordinator_A"], "POST", "/users", json={
        "email": "lien@test.example", "password": "a-long-enough-passphrase", "role": role,
        "cpts_ids": [sw.cpts["A"].id], "practitioner_id": sw.more["shared"].id})

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {"practitioner_id": ["only a gp account is linked to a practitioner"]}
    assert _accounts_named("lien@test.example") == 0


def test_finding1_an_account_linked_before_the_fix_reaches_nothing_of_c(app, client, world, sw):
    """The account the old POST /users made: the practitioner's CPTS give it nothing, API or pages."""
    linked, shared_for_c = sw.users["linked_A"], sw.more["shared_for_C"]

    assert _api(client, world, linked, "GET", f"/cpts/{sw.cpts['C'].id}").status_code == 403
    assert _api(client, world, linked, "GET", f"/bookings/{shared_for_c.id}").status_code == 404
    assert _api(client, world, linked, "POST", f"/bookings/{shared_for_c.id}/cancel", json={}).status_code == 404
    created = _api(client, world, linked, "POST", "/users", json={
        "email": "regulation-c@test.example", "password": "a-long-enough-passphrase", "role": "regulator",
        "cpts_ids": [sw.cpts["C"].id]})
    assert created.status_code == 403
    db.session.expire_all()
    assert db.session.get(Booking, shared_for_c.id).status == "booked"
    assert _accounts_named("regulation-c@test.example") == 0
    # Its page session (the other loader of the user) gives no more: C's dashboard is not its.
    pages = _page_client(app, world, linked)
    assert pages.get("/coordination", query_string={"cpts_id": sw.cpts["C"].id}).status_code == 403
    assert pages.get("/coordination", query_string={"cpts_id": sw.cpts["A"].id}).status_code == 200


def test_finding1_the_page_form_refuses_a_regulator_linked_to_a_practitioner(app, world, sw):
    coordinator = _page_client(app, world, sw.users["coordinator_A"])
    cpts_a = sw.cpts["A"].id
    response = coordinator.post(f"/coordination/accounts?cpts_id={cpts_a}", data={
        "email": "regulateur-lie@test.example", "password": "a-long-enough-passphrase", "role": "regulator",
        "practitioner_id": sw.more["shared"].id, "csrf_token": page_csrf(coordinator, f"/coordination?cpts_id={cpts_a}")},
        follow_redirects=True)

    assert "seul un compte médecin est rattaché à un praticien" in response.get_data(as_text=True)
    assert _accounts_named("regulateur-lie@test.example") == 0


def test_a_gp_account_is_linked_only_to_a_practitioner_of_its_cpts(world, sw):
    """A GP account reads the CPTS it was given: its practitioner must belong to each of them."""
    with pytest.raises(Invalid) as refused:
        users.create_user(sw.users["admin"], email="gp-b@test.example", password="a-long-enough-passphrase",
                             role="gp", cpts_ids=[sw.cpts["B"].id], practitioner_id=sw.more["shared"].id)
    assert refused.value.fields == {"practitioner_id": ["not a member of every CPTS of the account"]}
    # A coordinator of A does not create the account of a practitioner who also works for C (it would see the
    # patients C books on their slots); an admin does.
    with pytest.raises(Forbidden):
        users.create_user(sw.users["coordinator_A"], email="gp-a@test.example", password="a-long-enough-passphrase",
                             role="gp", cpts_ids=[sw.cpts["A"].id], practitioner_id=sw.more["shared"].id)
    created = users.create_user(sw.users["admin"], email="gp-a@test.example", password="a-long-enough-passphrase",
                                   role="gp", cpts_ids=[sw.cpts["A"].id], practitioner_id=sw.more["shared"].id)
    assert created.cpts_ids == [sw.cpts["A"].id]


# --- finding 2: set-up links (and every other management) need every CPTS of the account ----------------------------


def _issue_link(client, account: User, cpts_id: int):
    return client.post(f"/coordination/accounts/{account.id}/password-link?cpts_id={cpts_id}",
                       data={"csrf_token": page_csrf(client, f"/coordination?cpts_id={cpts_id}")})


def _links() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PasswordSetupLink))


def test_finding2_a_coordinator_gets_no_link_for_a_coordinator_of_two_cpts(app, world, sw):
    """Coordinator A issued a set-up link for a coordinator of A and B, chose its password and read B's bookings."""
    coordinator = _page_client(app, world, sw.users["coordinator_A"])
    cpts_a, target = sw.cpts["A"].id, sw.users["coordinator_AB"]

    assert _issue_link(coordinator, target, cpts_a).status_code == 404
    assert _links() == 0
    deactivate = coordinator.post(f"/coordination/accounts/{target.id}/active?cpts_id={cpts_a}",
                                  data={"active": "0", "csrf_token": page_csrf(coordinator, f"/coordination?cpts_id={cpts_a}")})
    assert deactivate.status_code == 404
    assert coordinator.get(f"/coordination/accounts/{target.id}/deactivate?cpts_id={cpts_a}").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target.id).active
    # The dashboard lists the account without its buttons.
    page = coordinator.get(f"/coordination?cpts_id={cpts_a}").get_data(as_text=True)
    assert target.email in page and f"Lien de mot de passe pour {target.email}" not in page
    assert "géré par un administrateur" in page
    for action in (lambda: setup_links.issue_setup_link(sw.users["coordinator_A"], target.id),
                   lambda: users.set_user_active(sw.users["coordinator_A"], target.id, False),
                   lambda: users.change_password(sw.users["coordinator_A"], target.id, "un-autre-mot-de-passe")):
        with pytest.raises(NotFound):
            action()


def test_finding2_a_coordinator_gets_no_link_for_a_gp_whose_practitioner_works_for_another_cpts(app, world, sw):
    """A GP account given A only still sees the patients C books on its practitioner's slots."""
    gp = users.create_user(sw.users["admin"], email="gp-a@test.example", password="a-long-enough-passphrase",
                              role="gp", cpts_ids=[sw.cpts["A"].id], practitioner_id=sw.more["shared"].id)
    coordinator = _page_client(app, world, sw.users["coordinator_A"])

    assert _issue_link(coordinator, gp, sw.cpts["A"].id).status_code == 404
    assert _links() == 0


def test_who_manages_every_cpts_of_an_account_still_manages_it(app, world, sw):
    colleague = world.user("coordinator", sw.cpts["A"])
    colleague.cpts.append(sw.cpts["B"])
    db.session.commit()
    # A coordinator of A and B manages another coordinator of A and B, and the accounts of A alone.
    by_both = _page_client(app, world, sw.users["coordinator_AB"])
    assert _issue_link(by_both, colleague, sw.cpts["A"].id).status_code == 200
    assert _issue_link(by_both, sw.users["regulator_A"], sw.cpts["A"].id).status_code == 200
    # Coordinator A keeps managing A's own accounts; the admin manages all.
    assert _issue_link(_page_client(app, world, sw.users["coordinator_A"]), sw.users["regulator_A"],
                       sw.cpts["A"].id).status_code == 200
    assert _issue_link(_page_client(app, world, sw.users["admin"]), sw.users["gp_AC"], sw.cpts["A"].id).status_code == 200
    assert _links() == 4


# --- finding 5: a booking made for C on a practitioner of A and C ---------------------------------------------------


def test_finding5_a_booking_made_for_c_is_not_a_patient_of_a(app, client, world, sw):
    """C's regulator books the shared practitioner; A's coordinator and regulators read (name, phone, birth date)
    and cancelled it. Now they see the slot as booked, nothing more; C and the practitioner see the booking."""
    shared = sw.more["shared"]
    made = _api(client, world, sw.users["regulator_C"], "POST", "/bookings", json={
        "slot_id": sw.more["free_shared"].id, "patient": PATIENT, "channel": "116117", "notify_patient": True})
    assert made.status_code == 201, made.get_json()
    booking_id = made.get_json()["id"]

    for outsider in ("coordinator_A", "regulator_A", "linked_A", "coordinator_AB"):
        user = sw.users[outsider]
        assert _api(client, world, user, "GET", f"/bookings/{booking_id}").status_code == 404, outsider
        listed = _api(client, world, user, "GET", "/bookings", query_string={"practitioner_id": shared.id,
                                                                              "from": made.get_json()["slot"]["start"]})
        assert listed.status_code == 200
        assert booking_id not in {b["id"] for b in listed.get_json()}, outsider
        assert "Renaud" not in listed.get_data(as_text=True)
        assert _api(client, world, user, "POST", f"/bookings/{booking_id}/cancel", json={}).status_code == 404
    assert _api(client, world, sw.users["coordinator_A"], "POST", f"/bookings/{booking_id}/move",
                json={"slot_id": sw.more["free_A2"].id}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == "booked"

    for insider in ("regulator_C", "coordinator_C", "gp_AC", "admin"):
        seen = _api(client, world, sw.users[insider], "GET", f"/bookings/{booking_id}")
        assert seen.status_code == 200, insider
        assert seen.get_json()["patient"]["last_name"] == "Renaud"
    assert db.session.get(Booking, booking_id).cpts_id == sw.cpts["C"].id


def test_finding5_the_shared_grid_shows_c_s_booking_without_its_patient(app, world, sw):
    day = sw.more["shared_for_A"].slot.start_at.astimezone(PARIS).date().isoformat()

    def initials(user) -> dict:
        client = _page_client(app, world, user)
        grid = client.get("/regulation/agenda.json",
                          query_string={"day": day, "days": 3, "practitioner_id": sw.more["shared"].id})
        assert grid.status_code == 200
        return {s["id"]: (s["status"], s["initials"]) for s in grid.get_json()["slots"]}

    for_a, for_c = sw.more["shared_for_A"].slot_id, sw.more["shared_for_C"].slot_id
    assert initials(sw.users["regulator_A"])[for_c] == ("booked", None)
    assert initials(sw.users["regulator_A"])[for_a] == ("booked", "JD")
    assert initials(sw.users["regulator_C"])[for_c] == ("booked", "PM")
    assert initials(sw.users["regulator_C"])[for_a] == ("booked", None)
    assert initials(sw.users["admin"])[for_c] == ("booked", "PM")


def test_finding5_messages_about_c_s_booking_are_c_s(world, sw):
    """The coordinator's SMS page lists (and re-sends) the messages of the bookings they see."""
    for name in ("shared_for_A", "shared_for_C"):
        made = sw.more[name]
        db.session.add(OutboxMessage(kind="patient_confirmation", recipient="patient", booking_id=made.id,
                                     practitioner_id=made.slot.practitioner_id, to_phone="+33612345678", body="x",
                                     status="failed"))
    db.session.commit()
    booking_of = {m.booking_id: m.id for m in db.session.scalars(select(OutboxMessage))}
    coordinator_a = sw.users["coordinator_A"]
    assert {m.booking_id for m in outbox.recent_messages({sw.cpts["A"].id})} == {sw.more["shared_for_A"].id}
    assert {m.booking_id for m in outbox.recent_messages({sw.cpts["C"].id})} == {sw.more["shared_for_C"].id}
    with pytest.raises(NotFound):
        outbox.resend(coordinator_a, booking_of[sw.more["shared_for_C"].id], {sw.cpts["A"].id})


def test_finding5_the_shared_practitioner_s_feed_is_not_a_s_to_hold(client, world, sw):
    """The feed shows the initials of every booking on the practitioner's slots: a coordinator of one of their
    CPTS gets no feed URL (nor a new one), the practitioner does."""
    shared = sw.more["shared"]
    assert "calendar_url" not in _api(client, world, sw.users["coordinator_A"], "GET", f"/practitioners/{shared.id}").get_json()
    assert _api(client, world, sw.users["coordinator_A"], "POST",
                f"/practitioners/{shared.id}/calendar-token").status_code == 403
    assert "calendar_url" in _api(client, world, sw.users["gp_AC"], "GET", f"/practitioners/{shared.id}").get_json()
    # A's own practitioner: their coordinator holds the feed as before.
    gp_a = sw.users["gp_A"].practitioner_id
    assert "calendar_url" in _api(client, world, sw.users["coordinator_A"], "GET", f"/practitioners/{gp_a}").get_json()


def test_a_booking_belongs_to_the_cpts_it_was_made_for(world, sw):
    """Chosen from the booker's scope and the practitioner's memberships, the booker's own CPTS first; kept by a move."""
    regulator_b = world.user("regulator", sw.cpts["B"])
    gp_b_slot = world.slot(sw.users["gp_B"].practitioner, sw.free["A"].start_at + timedelta(hours=8))
    cases = [("regulator_A", sw.more["free_shared"], "A"),   # own CPTS
             ("regulator_A", gp_b_slot, "B"),                 # a CPTS of the area, not the regulator's
             ("regulator_C", world.slot(sw.more["shared"], sw.free["A"].start_at + timedelta(hours=9)), "C"),
             (regulator_b, world.slot(sw.more["shared"], sw.free["A"].start_at + timedelta(hours=10)), "A"),
             ("admin", world.slot(sw.more["shared"], sw.free["A"].start_at + timedelta(hours=11)), "A")]
    made = {}
    for booker, slot, cpts in cases:
        user = sw.users[booker] if isinstance(booker, str) else booker
        patient = PATIENT | {"birth_date": date(1961, 4, 2)}  # as the API's schema gives it
        booking, _ = bookings.book(user, {"slot_id": slot.id, "patient": patient, "channel": "116117",
                                          "notify_patient": False})
        assert booking.cpts_id == sw.cpts[cpts].id, (booker, cpts)
        made[cpts] = booking
    # C's regulator moves C's booking to C's own GP: still C's.
    moved = bookings.move(sw.users["regulator_C"], made["C"].id, sw.free["C"].id, notify_patient=False)
    assert moved.cpts_id == sw.cpts["C"].id
