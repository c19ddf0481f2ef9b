"""Sign-in throttling per account and per client address, shared by every worker and instance (issue 15, item 6)."""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from flask import g, jsonify, request
from sqlalchemy import func, select, update

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.proxy import socket_peer
from snp_service.core.timeutil import utcnow
from snp_service.models import SignInAttempt

from .factories import PASSWORD, page_csrf

WRONG = "pas-le-bon-mot-de-passe"
PROXY = "127.0.0.1"  # the default TRUSTED_PROXIES


def _as_another_client() -> None:
    """Several browsers and clients here: their requests share the world's app context, and so what Flask-WTF
    (the CSRF token) and Flask-Login (the signed-in user) keep in g for the rest of a request."""
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _page_sign_in(client, email, password, **kwargs):
    _as_another_client()
    html = client.get("/login", **kwargs).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def _api_sign_in(client, email, password, json_extra=None, **kwargs):
    _as_another_client()
    return client.post("/api/v1/auth/token", json={"email": email, "password": password, **(json_extra or {})},
                       **kwargs)


def _flash(page) -> str:
    """The sign-in page's refusal, as the person reads it."""
    import html

    return html.unescape(re.search(r'role="alert">([^<]+)<', page.get_data(as_text=True)).group(1))


def _csrf(client) -> str:
    """The CSRF token of the signed-in client's home page (for signing out)."""
    return page_csrf(client, "/regulation")


def _behind_proxy(client_address: str) -> dict:
    """What a request from ``client_address`` looks like once nginx (a trusted proxy) passed it on."""
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": client_address}}


@pytest.fixture
def limits(app):
    app.config.update(RATELIMIT_LOGIN_PER_ACCOUNT="5 per 15 minutes", RATELIMIT_LOGIN_PER_ADDRESS="12 per 15 minutes")


def test_account_lockout_counts_both_sign_in_paths_and_refuses_the_right_password(app, client, world, limits):
    regulator = world.user("regulator", world.cpts())
    colleague = world.user("regulator", world.cpts())
    codes = []
    for attempt in range(5):  # page and API alternate: one count
        sign_in = _page_sign_in if attempt % 2 else _api_sign_in
        codes.append(sign_in(client, regulator.email, WRONG, **_behind_proxy("198.51.100.7")).status_code)
    assert codes == [401] * 5

    page = _page_sign_in(client, regulator.email, PASSWORD, **_behind_proxy("198.51.100.7"))
    api = _api_sign_in(client, regulator.email, PASSWORD, **_behind_proxy("198.51.100.8"))
    # The page reads as for a wrong password (issue 25); the API tells its client when to retry.
    wrong = _page_sign_in(client, colleague.email, WRONG, **_behind_proxy("198.51.100.9"))
    assert page.status_code == wrong.status_code == 401 and "Retry-After" not in page.headers
    assert _flash(page) == _flash(wrong) and "trop d'essais" in _flash(page)
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(api.headers["Retry-After"]) <= 15 * 60
    # Only that account: a colleague behind the same proxy, even from the same address, signs in.
    assert _api_sign_in(client, colleague.email, PASSWORD, **_behind_proxy("198.51.100.7")).status_code == 200


def test_lockout_answers_alike_whether_the_account_exists_or_not(app, client, world, limits):
    regulator = world.user("regulator", world.cpts())

    def run(email, address):
        answers = [_api_sign_in(client, email, WRONG, **_behind_proxy(address)) for _ in range(5)]
        answers.append(_api_sign_in(client, email, PASSWORD, **_behind_proxy(address)))
        return [(a.status_code, a.get_json()) for a in answers]

    existing = run(regulator.email, "198.51.100.20")
    unknown = run("personne@test.example", "198.51.100.21")
    assert existing == unknown
    assert [status for status, _body in existing] == [401] * 5 + [429]


def test_address_lockout_spares_other_clients_behind_the_same_proxy(app, client, world, limits):
    cpts = world.cpts()
    victim = world.user("regulator", cpts)
    # One address tries a different account each time (credential stuffing): 12 failures lock the address.
    for n in range(12):
        assert _api_sign_in(client, f"cible{n}@test.example", WRONG, **_behind_proxy("203.0.113.5")).status_code == 401
    assert _api_sign_in(client, victim.email, PASSWORD, **_behind_proxy("203.0.113.5")).status_code == 429
    # The same proxy forwards another client: not locked.
    assert _api_sign_in(client, victim.email, PASSWORD, **_behind_proxy("203.0.113.6")).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(app, client, world, limits):
    regulator = world.user("regulator", world.cpts())
    direct = {"environ_base": {"REMOTE_ADDR": "192.0.2.50"}}
    for n in range(12):  # a different forged address each time: all counted against the real peer
        forged = {"X-Forwarded-For": f"10.9.9.{n}"}
        _api_sign_in(client, f"x{n}@test.example", WRONG, headers=forged, **direct)
    db.session.rollback()
    addresses = set(db.session.scalars(select(SignInAttempt.address)))
    assert addresses == {"192.0.2.50"}
    assert _api_sign_in(client, regulator.email, PASSWORD, headers={"X-Forwarded-For": "10.1.1.1"},
                        **direct).status_code == 429


def test_the_count_is_shared_by_two_instances_on_one_database(app, database_url, world):
    regulator = world.user("regulator", world.cpts())
    settings = {"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                "RATELIMIT_LOGIN_PER_ACCOUNT": "6 per 15 minutes"}
    first, second = create_app(settings), create_app(settings)
    clients = [first.test_client(), second.test_client()]
    try:
        codes = [_api_sign_in(clients[n % 2], regulator.email, WRONG).status_code for n in range(6)]
        assert codes == [401] * 6  # three on each instance
        assert [_api_sign_in(c, regulator.email, PASSWORD).status_code for c in clients] == [429, 429]
    finally:
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()


def test_concurrent_attempts_reach_the_password_check_at_most_the_limit(app, live_server, world):
    regulator = world.user("regulator", world.cpts())
    app.config["RATELIMIT_LOGIN_PER_ACCOUNT"] = "10 per 15 minutes"
    start = threading.Barrier(16)

    def attempt(_n):
        start.wait() if _n < 16 else None
        return requests.post(f"{live_server}/api/v1/auth/token", json={"email": regulator.email, "password": WRONG},
                             timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(attempt, range(48)))
    # 401 is an attempt that reached the password check: never more than the limit, however they
    # interleave (attempts counted at the same instant may all see each other and all be refused).
    assert 1 <= codes.count(401) <= 10 and codes.count(401) + codes.count(429) == 48, codes


def test_limits_come_from_the_environment(monkeypatch, database_url, world):
    regulator = world.user("regulator", world.cpts())
    monkeypatch.setenv("SNP_RATELIMIT_LOGIN_PER_ACCOUNT", "2 per 1 minute")
    configured = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        assert configured.config["RATELIMIT_LOGIN_PER_ACCOUNT"] == "2 per 1 minute"
        client = configured.test_client()
        codes = [_api_sign_in(client, regulator.email, WRONG).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
    finally:
        with configured.app_context():
            db.engine.dispose()


def test_the_window_slides_and_success_does_not_count(app, client, world, limits):
    regulator = world.user("regulator", world.cpts())
    for _ in range(4):
        _api_sign_in(client, regulator.email, WRONG)
    for _ in range(3):  # successes are not failures
        assert _api_sign_in(client, regulator.email, PASSWORD).status_code == 200
    assert _api_sign_in(client, regulator.email, WRONG).status_code == 401
    assert _api_sign_in(client, regulator.email, PASSWORD).status_code == 429

    db.session.execute(update(SignInAttempt).values(at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert _api_sign_in(client, regulator.email, PASSWORD).status_code == 200


def test_refused_attempts_do_not_extend_the_lockout(app, client, world, limits):
    regulator = world.user("regulator", world.cpts())
    for _ in range(20):
        _api_sign_in(client, regulator.email, WRONG)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SignInAttempt)) == 5


def test_purge_keeps_only_attempts_inside_the_window(app, client, world, limits):
    from snp_service.accounts.sign_in import purge_old_attempts

    for n in range(3):
        _api_sign_in(client, f"u{n}@test.example", WRONG)
    db.session.execute(update(SignInAttempt).where(SignInAttempt.id <= 2).values(at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert purge_old_attempts() == 2
    assert db.session.scalar(select(func.count()).select_from(SignInAttempt)) == 1


def test_proxy_fix_keeps_the_socket_peer_for_checks_about_the_proxy(database_url):
    probe = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                        "TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    probe.add_url_rule("/_peer", "peer", lambda: jsonify(client=request.remote_addr, scheme=request.scheme,
                                                         peer=socket_peer(request.environ)))
    client = probe.test_client()
    forwarded = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    trusted = client.get("/_peer", headers=forwarded, environ_base={"REMOTE_ADDR": "10.2.3.4"}).get_json()
    untrusted = client.get("/_peer", headers=forwarded, environ_base={"REMOTE_ADDR": "192.0.2.9"}).get_json()
    assert trusted == {"client": "198.51.100.1", "scheme": "https", "peer": "10.2.3.4"}
    assert untrusted == {"client": "192.0.2.9", "scheme": "http", "peer": "192.0.2.9"}


def test_proxy_fix_reads_an_ipv4_mapped_peer_as_its_ipv4_address(database_url):
    """One rule for the proxy, read by ProxyFix and by the SAS interface alike: a dual-stack socket shows the
    trusted 10.2.3.4 as ``::ffff:10.2.3.4``, and its forwarded address counts."""
    probe = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                        "TRUSTED_PROXIES": ["10.0.0.0/8"]})
    probe.add_url_rule("/_peer", "peer", lambda: jsonify(client=request.remote_addr))
    client = probe.test_client()
    forwarded = {"X-Forwarded-For": "198.51.100.1"}
    assert client.get("/_peer", headers=forwarded, environ_base={"REMOTE_ADDR": "::ffff:10.2.3.4"}).get_json() == {
        "client": "198.51.100.1"}
    assert client.get("/_peer", headers=forwarded, environ_base={"REMOTE_ADDR": "::ffff:192.0.2.9"}).get_json() == {
        "client": "::ffff:192.0.2.9"}


# Issue 28, finding 6: a lockout that an attacker cannot turn against the user (OWASP device cookies).


def _hammer(client, email: str, attempts: int = 12) -> list[int]:
    """Wrong passwords at ``email`` from unknown devices, each from another address, on both paths."""
    codes = []
    for n in range(attempts):
        sign_in = _page_sign_in if n % 2 else _api_sign_in
        codes.append(sign_in(client, email, WRONG, **_behind_proxy(f"203.0.113.{100 + n}")).status_code)
    return codes


def test_someone_hammering_an_email_locks_unknown_devices_only(app, world, database_url):
    regulator = world.user("regulator", world.cpts())
    own_browser, api_client = app.test_client(), app.test_client()
    assert _page_sign_in(own_browser, regulator.email, PASSWORD).status_code == 302  # this browser is now known
    own_browser.post("/logout", data={"csrf_token": _csrf(own_browser)})
    device_token = _api_sign_in(api_client, regulator.email, PASSWORD).get_json()["device_token"]

    codes = _hammer(app.test_client(), regulator.email)
    assert codes[:10] == [401] * 10 and {code for n, code in enumerate(codes) if n >= 10 and not n % 2} == {429}

    # The regulator's own browser and API client sign in; a browser or client never seen before does not.
    page = _page_sign_in(own_browser, regulator.email, PASSWORD, **_behind_proxy("198.51.100.30"))
    assert page.status_code == 302 and page.headers["Location"] == "/regulation", page.get_data(as_text=True)
    assert own_browser.get("/regulation").status_code == 200
    api = _api_sign_in(api_client, regulator.email, PASSWORD, json_extra={"device_token": device_token})
    assert api.status_code == 200 and api.get_json()["user"]["id"] == regulator.id
    unknown_page = _page_sign_in(app.test_client(), regulator.email, PASSWORD, **_behind_proxy("198.51.100.30"))
    assert unknown_page.status_code == 401 and "trop d'essais" in _flash(unknown_page)
    assert _api_sign_in(app.test_client(), regulator.email, PASSWORD).status_code == 429


def test_a_device_token_serves_only_its_account_and_only_as_signed(app, client, world, limits):
    cpts = world.cpts()
    regulator, colleague = world.user("regulator", cpts), world.user("regulator", cpts)
    colleague_token = _api_sign_in(client, colleague.email, PASSWORD).get_json()["device_token"]
    own_token = _api_sign_in(client, regulator.email, PASSWORD).get_json()["device_token"]
    _hammer(client, regulator.email, 6)
    forged = own_token[:-3] + ("AAA" if not own_token.endswith("AAA") else "BBB")
    for token in (colleague_token, forged, "", "x" * 1500):
        assert _api_sign_in(client, regulator.email, PASSWORD, json_extra={"device_token": token}).status_code == 429
    assert _api_sign_in(client, regulator.email, PASSWORD, json_extra={"device_token": own_token}).status_code == 200


def test_a_known_device_has_its_own_budget_and_an_expiry(app, client, world, limits):
    cpts = world.cpts()
    regulator = world.user("regulator", cpts)
    mine = _api_sign_in(client, regulator.email, PASSWORD).get_json()["device_token"]
    other = _api_sign_in(client, regulator.email, PASSWORD).get_json()["device_token"]
    # A known device that fails too often locks itself, not the account's other known devices...
    codes = [_api_sign_in(client, regulator.email, WRONG, json_extra={"device_token": mine}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert _api_sign_in(client, regulator.email, PASSWORD, json_extra={"device_token": mine}).status_code == 429
    assert _api_sign_in(client, regulator.email, PASSWORD, json_extra={"device_token": other}).status_code == 200
    # ...nor the unknown devices.
    assert _api_sign_in(client, regulator.email, PASSWORD).status_code == 200
    # Past KNOWN_DEVICE_DAYS the token is worth nothing: the device is unknown again.
    _hammer(client, regulator.email, 6)
    app.config["KNOWN_DEVICE_DAYS"] = 0
    time.sleep(1.1)
    assert _api_sign_in(client, regulator.email, PASSWORD, json_extra={"device_token": other}).status_code == 429


def test_a_shared_desk_browser_remembers_each_of_its_regulators(app, world, limits):
    cpts = world.cpts()
    first, second = world.user("regulator", cpts), world.user("regulator", cpts)
    desk = app.test_client()
    for user in (first, second):
        assert _page_sign_in(desk, user.email, PASSWORD).status_code == 302
        desk.post("/logout", data={"csrf_token": _csrf(desk)})
    cookie = desk.get_cookie("snp_device", path="/login")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    for user in (first, second):
        _hammer(app.test_client(), user.email, 6)
    for user in (first, second):
        assert _page_sign_in(desk, user.email, PASSWORD).status_code == 302
        desk.post("/logout", data={"csrf_token": _csrf(desk)})


def test_the_openapi_document_tells_api_clients_about_their_device_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "device_token" in schemas["TokenRequest"]["properties"]
    assert "device_token" in schemas["TokenResponse"]["properties"]
    assert "device_token" in document["paths"]["/api/v1/auth/token"]["post"]["description"]
