"""The TOTP second factor (issue 25): enrolment with an inline QR code and 10 hashed recovery codes, the code
after the password, recovery codes serving once, REQUIRE_SECOND_FACTOR, the coordination's reset, and the
API's ``otp``. Codes are computed with pyotp, as the person's app would."""
from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
from flask import g
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.models import AuditEvent, RecoveryCode, SecondFactor, SignInAttempt

from .factories import PASSWORD, page_csrf


def _fresh():
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _password(client, user, next_path: str | None = None):
    _fresh()
    url = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"email": user.email, "password": PASSWORD, "csrf_token": page_csrf(client, url)})


def _enrol_page(client) -> tuple[str, str]:
    _fresh()
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    return page, secret


def _enrol(client) -> tuple[str, list[str], object]:
    _page, secret = _enrol_page(client)
    answer = client.post("/account/second-factor", data={"code": _code(secret),
                                                          "csrf_token": page_csrf(client, "/account/second-factor")})
    codes = re.findall(r"data-recovery-code>([a-z0-9-]+)<", answer.get_data(as_text=True))
    return secret, codes, answer


def _give_code(client, code: str):
    _fresh()
    return client.post("/login/second-factor", data={"code": code,
                                                     "csrf_token": page_csrf(client, "/login/second-factor")})


@pytest.fixture
def gp(world):
    return world.gp(world.cpts())


@pytest.fixture
def enrolled(app, world, gp):
    """The GP's account with a second factor: (secret, recovery codes)."""
    client = app.test_client()
    _fresh()
    world.sign_in_page(client, gp)
    secret, codes, _answer = _enrol(client)
    world.forget_sign_in_attempts()
    return secret, codes


def test_enrolment_draws_the_qr_code_inline_and_gives_ten_hashed_recovery_codes(app, world, gp):
    client = app.test_client()
    world.sign_in_page(client, gp)
    page, secret = _enrol_page(client)
    assert '<svg' in page and "qrline" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0]
    wrong = client.post("/account/second-factor", data={"code": "000000" if _code(secret) != "000000" else "111111",
                                                        "csrf_token": page_csrf(client, "/account/second-factor")})
    assert wrong.status_code == 422 and db.session.scalar(select(func.count()).select_from(SecondFactor)) == 0
    _secret, codes, answer = _enrol(client)
    assert _secret == secret and answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert len(codes) == 10 == len(set(codes))
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    factor = db.session.scalar(select(SecondFactor))
    assert secret not in factor.secret_encrypted
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "second_factor.enrol"))
    _fresh()
    assert "Codes de secours encore utilisables : <strong>10</strong>" in client.get(
        "/account/second-factor").get_data(as_text=True)


def test_the_code_is_asked_after_the_password_and_serves_once(app, gp, enrolled):
    secret, _codes = enrolled
    client = app.test_client()
    step = _password(client, gp)
    assert step.location == "/login/second-factor"
    _fresh()
    assert client.get("/gp").status_code == 302  # not signed in before the code
    code = _code(secret, 1)
    assert _give_code(client, code).location == "/gp"
    _fresh()
    assert client.get("/gp").status_code == 200
    again = app.test_client()
    _password(again, gp)
    assert _give_code(again, code).status_code == 401  # that step's code was used


def test_a_recovery_code_signs_in_once(app, gp, enrolled):
    _secret, codes = enrolled
    first = app.test_client()
    _password(first, gp)
    assert _give_code(first, codes[3].upper().replace("-", " ")).location == "/gp"
    second = app.test_client()
    _password(second, gp)
    refused = _give_code(second, codes[3])
    assert refused.status_code == 401 and "Code incorrect" in html.unescape(refused.get_data(as_text=True))
    used = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor.recovery_code_used"))
    assert used.after == {"user_id": gp.id, "left": 9}


def test_the_code_page_has_the_security_headers_and_no_inline_script(app, gp, enrolled):
    from .test_security_headers import _assert_security_headers, _audit

    client = app.test_client()
    _password(client, gp)
    _fresh()
    page = client.get("/login/second-factor")
    assert page.status_code == 200
    _assert_security_headers(page, "/login/second-factor")
    assert _audit(page) == []


def test_five_wrong_codes_send_back_to_the_password(app, gp, enrolled):
    client = app.test_client()
    _password(client, gp)
    answers = [_give_code(client, "12345a") for _ in range(5)]
    assert [a.status_code for a in answers[:4]] == [401] * 4 and answers[4].location.startswith("/login")
    _fresh()
    assert client.get("/login/second-factor").location.startswith("/login")


def test_wrong_codes_count_towards_the_lockout(app, gp, enrolled):
    """Codes cannot be tried without end, one right password after another: each wrong one is a failed attempt."""
    client = app.test_client()
    _password(client, gp)
    for _ in range(5):
        _give_code(client, "12345a")
    _password(client, gp)
    for _ in range(5):
        _give_code(client, "12345a")
    assert db.session.scalar(select(func.count()).select_from(SignInAttempt)) == 10
    assert _password(app.test_client(), gp).status_code == 401  # locked for unknown devices


def test_a_required_second_factor_is_enrolled_right_after_the_password(app, gp):
    app.config["REQUIRE_SECOND_FACTOR"] = True
    client = app.test_client()
    assert _password(client, gp, "/gp?week=1").location == "/account/second-factor"
    _fresh()
    assert client.get("/gp").status_code == 302
    _secret, codes, answer = _enrol(client)
    assert len(codes) == 10 and 'href="/gp?week=1"' in answer.get_data(as_text=True)
    _fresh()
    assert client.get("/gp").status_code == 200


def test_without_the_requirement_a_password_alone_signs_in(app, gp):
    assert _password(app.test_client(), gp).location == "/gp"


def test_the_coordinator_resets_a_members_second_factor(app, world, gp, enrolled):
    coordinator = world.user("coordinator", gp.cpts[0])
    desk = app.test_client()
    _fresh()
    world.sign_in_page(desk, coordinator)
    cpts_id = gp.cpts[0].id
    page = desk.get(f"/coordination?cpts_id={cpts_id}").get_data(as_text=True)
    assert f"Réinitialiser la double authentification de {gp.email}" in page
    _fresh()
    desk.post(f"/coordination/accounts/{gp.id}/second-factor/reset?cpts_id={cpts_id}",
              data={"csrf_token": page_csrf(desk, "/coordination")})
    assert db.session.scalar(select(func.count()).select_from(SecondFactor)) == 0
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor.reset"))
    assert event.actor_id == coordinator.id and event.object_id == gp.id
    assert _password(app.test_client(), gp).location == "/gp"


@pytest.mark.parametrize("role, same_cpts, status", [("coordinator", False, 404), ("regulator", True, 403),
                                                      ("gp", True, 403)])
def test_others_cannot_reset_it(app, world, gp, enrolled, role, same_cpts, status):
    cpts = gp.cpts[0] if same_cpts else world.cpts()
    caller = world.gp(cpts) if role == "gp" else world.user(role, cpts)
    client = app.test_client()
    _fresh()
    world.sign_in_page(client, caller)
    home = {"coordinator": "/coordination", "regulator": "/regulation", "gp": "/gp"}[role]
    answer = client.post(f"/coordination/accounts/{gp.id}/second-factor/reset?cpts_id={cpts.id}",
                         data={"csrf_token": page_csrf(client, home)})
    assert answer.status_code == status
    assert db.session.scalar(select(func.count()).select_from(SecondFactor)) == 1


def test_an_admin_resets_anyones(app, world, gp, enrolled):
    from snp_service.accounts import second_factor

    second_factor.reset(world.user("admin"), gp.id)
    assert db.session.scalar(select(func.count()).select_from(SecondFactor)) == 0


def _token(client, user, **extra):
    _fresh()
    return client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, **extra})


def test_the_api_asks_for_otp_when_the_account_has_a_second_factor(app, client, gp, enrolled):
    secret, codes = enrolled
    for _ in range(12):  # more than the lockout threshold: a missing code is not a failed attempt
        missing = _token(client, gp)
        assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "second_factor_required"
    assert db.session.scalar(select(func.count()).select_from(SignInAttempt)) == 0
    wrong = _token(client, gp, otp="12345x")
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_credentials"
    assert db.session.scalar(select(func.count()).select_from(SignInAttempt)) == 1  # counted
    assert _token(client, gp, otp=_code(secret, 1)).status_code == 200
    assert _token(client, gp, otp=codes[0]).status_code == 200
    assert _token(client, gp, otp=codes[0]).status_code == 401


def test_the_api_refuses_a_token_before_a_required_enrolment(app, client, gp):
    assert _token(client, gp).status_code == 200
    app.config["REQUIRE_SECOND_FACTOR"] = True
    refused = _token(client, gp)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "second_factor_required"


def test_production_requires_it_and_the_other_configurations_do_not():
    from config import load_config

    assert load_config("testing")["REQUIRE_SECOND_FACTOR"] is False
    assert load_config("development")["REQUIRE_SECOND_FACTOR"] is False
    assert load_config("production", {"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                                      "SMS_BACKEND": "twilio"})["REQUIRE_SECOND_FACTOR"] is True
