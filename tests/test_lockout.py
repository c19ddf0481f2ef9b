"""The lockout (issue 25): LOCKOUT_THRESHOLD failures lock an account for LOCKOUT_MINUTES for unknown devices,
known devices keep signing in, the page reads the same whether locked or wrong, and the coordination sees
locked accounts and unlocks them (audited)."""
from __future__ import annotations

import re

from flask import g
from sqlalchemy import select

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.models import AuditEvent

from .factories import PASSWORD, page_csrf

WRONG = "pas-le-bon-mot-de-passe"


def _fresh():
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _page_sign_in(client, email, password):
    _fresh()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _lock(app, email, times):
    return [_page_sign_in(app.test_client(), email, WRONG).status_code for _ in range(times)]


def test_defaults_are_ten_failures_for_fifteen_minutes(app):
    from snp_service.accounts.sign_in import limits

    with app.test_request_context():
        allowed, window = limits()["account"]
    assert (allowed, window.total_seconds()) == (10, 15 * 60)


def test_the_threshold_comes_from_the_environment_and_locks_even_the_right_password(monkeypatch, database_url, world):
    monkeypatch.setenv("SNP_LOCKOUT_THRESHOLD", "3")
    monkeypatch.setenv("SNP_LOCKOUT_MINUTES", "5")
    configured = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with configured.app_context():
        regulator = world.user("regulator", world.cpts())
        assert _lock(configured, regulator.email, 3) == [401] * 3
        locked = _page_sign_in(configured.test_client(), regulator.email, PASSWORD)
        wrong_elsewhere = _page_sign_in(configured.test_client(), "personne@test.example", WRONG)
        assert locked.status_code == wrong_elsewhere.status_code == 401
        text = locked.get_data(as_text=True)
        assert re.search(r'role="alert">([^<]+)<', text).group(1) == re.search(
            r'role="alert">([^<]+)<', wrong_elsewhere.get_data(as_text=True)).group(1)


def test_a_known_browser_signs_in_while_unknown_devices_are_locked(app, world):
    regulator = world.user("regulator", world.cpts())
    own = app.test_client()
    assert _page_sign_in(own, regulator.email, PASSWORD).status_code == 302
    _fresh()
    own.post("/logout", data={"csrf_token": page_csrf(own, "/regulation")})
    _lock(app, regulator.email, 11)
    assert _page_sign_in(app.test_client(), regulator.email, PASSWORD).status_code == 401
    assert _page_sign_in(own, regulator.email, PASSWORD).status_code == 302


def test_the_coordinator_sees_the_locked_account_and_unlocks_it(app, world):
    cpts = world.cpts()
    regulator, other = world.user("regulator", cpts), world.user("regulator", cpts)
    coordinator = world.user("coordinator", cpts)
    _lock(app, regulator.email, 10)
    _lock(app, other.email, 9)  # one short: not locked
    desk = app.test_client()
    _fresh()
    world.sign_in_page(desk, coordinator)
    page = desk.get(f"/coordination?cpts_id={cpts.id}").get_data(as_text=True)
    assert "1 compte verrouillé" in page and page.count("data-locked") == 1
    assert f'aria-label="Déverrouiller {regulator.email}"' in page
    unlocked = desk.post(f"/coordination/accounts/{regulator.id}/unlock?cpts_id={cpts.id}",
                         data={"csrf_token": page_csrf(desk, "/coordination")})
    assert unlocked.status_code == 302
    _fresh()
    assert "data-locked" not in desk.get(f"/coordination?cpts_id={cpts.id}").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.unlock"))
    assert event.actor_id == coordinator.id and event.object_id == regulator.id
    assert event.after == {"failed_attempts_forgotten": 10}
    assert _page_sign_in(app.test_client(), regulator.email, PASSWORD).status_code == 302


def test_only_a_coordinator_of_the_account_unlocks_it(app, world):
    mine, elsewhere = world.cpts(), world.cpts()
    regulator = world.user("regulator", mine)
    _lock(app, regulator.email, 10)
    for role, cpts, status in (("coordinator", elsewhere, 404), ("regulator", mine, 403)):
        caller = app.test_client()
        _fresh()
        world.sign_in_page(caller, world.user(role, cpts))
        home = "/coordination" if role == "coordinator" else "/regulation"
        answer = caller.post(f"/coordination/accounts/{regulator.id}/unlock?cpts_id={cpts.id}",
                             data={"csrf_token": page_csrf(caller, home)})
        assert answer.status_code == status
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.unlock")) is None
    assert _page_sign_in(app.test_client(), regulator.email, PASSWORD).status_code == 401
