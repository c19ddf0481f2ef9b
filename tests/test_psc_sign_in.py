"""Sign-in with Pro Santé Connect (issue 25) against the fake PSC on 127.0.0.1: end to end, the SAS booking link,
sign-out at PSC, and each refusal (forged signature, expired, wrong audience, replayed nonce, wrong state,
unknown RPPS, acr too low)."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.models import PageSession, SasRegulatorIdentifier

from .factories import page_csrf
from .fake_psc import FakePsc

HOST = "http://localhost"
REFUSED = "Connexion par Pro Santé Connect refusée"
# The check that refuses each fault (the operators' log line).
WHY = {"forged_signature": "signature", "expired": "ExpiredTokenError", "wrong_audience": "aud",
       "wrong_issuer": "iss", "wrong_state": "state mismatch"}
CALLBACK = HOST + "/auth/psc/callback"


@pytest.fixture(scope="module")
def provider():
    fake = FakePsc(redirect_uris=[CALLBACK], post_logout_redirect_uris=[HOST + "/login"]).start()
    yield fake
    fake.stop()


@pytest.fixture
def psc(provider, app):
    provider.reset()
    app.config.update(provider.config())
    return provider


def _through_psc(client, psc, start: str = "/login/psc"):
    """The browser's trip: our /login/psc, PSC's authorize, back to our callback. Returns the callback's answer."""
    to_psc = client.get(start)
    assert to_psc.status_code == 302 and to_psc.location.startswith(psc.url("authorize"))
    back = psc.sign_in(to_psc.location)
    assert back.startswith(CALLBACK)
    return client.get(back.removeprefix(HOST))


def test_the_login_page_offers_psc_only_when_configured(app, client, provider):
    assert "Pro Santé Connect" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/psc").status_code == 404
    app.config.update(provider.config())
    assert "Se connecter avec Pro Santé Connect" in client.get("/login").get_data(as_text=True)


def test_a_gp_signs_in_with_psc_and_lands_home_without_second_factor(client, world, psc):
    gp = world.gp(world.cpts(), rpps="10003456789")
    psc.next_person(rpps="10003456789")
    landed = _through_psc(client, psc)
    assert landed.status_code == 302 and landed.location == "/gp"
    assert client.get("/gp").status_code == 200
    assert db.session.scalar(select(PageSession.user_id)) == gp.id
    authorize = psc.calls("authorize")[0].query
    assert authorize["code_challenge_method"] == "S256" and authorize["scope"] == "openid scope_all"
    assert authorize["state"] and authorize["nonce"]


def test_the_rpps_alone_as_subject_name_id_finds_the_account(client, world, psc):
    world.gp(world.cpts(), rpps="10003456780")
    psc.next_person(subject_name_id="10003456780")
    assert _through_psc(client, psc).location == "/gp"


def test_the_sas_link_goes_straight_to_psc_and_lands_on_the_agenda_with_channel_sas(client, world, psc):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts)
    regulator = world.user("regulator", cpts)
    world._save(SasRegulatorIdentifier(user_id=regulator.id, system="urn:oid:1.2.250.1.71.4.2.1",
                                       value="810002673899", type_code="IDNPS"))
    link = f"/regulation/praticien/{doctor.id}?origin=sas"
    to_login = client.get(link)
    to_psc = client.get(to_login.location)
    assert urlsplit(to_psc.location).path == "/login/psc"
    psc.next_person(rpps="10002673899")
    landed = _through_psc(client, psc, to_psc.location)
    assert landed.location == link
    agenda = client.get(client.get(link).location)
    assert agenda.status_code == 200 and 'data-default="sas"' in agenda.get_data(as_text=True)


def test_the_sas_link_still_offers_the_password_when_asked(client, world, psc):
    doctor = world.practitioner(world.cpts(regulation_area="Vendée"))
    page = client.get(f"/login?mode=password&next=/regulation/praticien/{doctor.id}?origin%3Dsas")
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


def test_signing_out_ends_the_psc_session(client, world, psc):
    world.gp(world.cpts(), rpps="10003456781")
    psc.next_person(rpps="10003456781")
    _through_psc(client, psc)
    out = client.post("/logout", data={"csrf_token": page_csrf(client, "/gp")})
    # A page moving on by itself (meta refresh): a redirect would break the CSP's form-action 'self'.
    assert out.status_code == 200 and out.headers["Content-Security-Policy"].count("form-action 'self'") == 1
    found = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', out.get_data(as_text=True))
    end_session = html.unescape(found.group(1))
    assert end_session.startswith(psc.url("end_session"))
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == [HOST + "/login"]
    back = psc.sign_in(end_session)
    assert back == HOST + "/login" and len(psc.ended_sessions) == 1
    assert client.get("/gp").status_code == 302  # signed out here too


def _refused(client, psc, status: int = 401) -> str:
    answer = _through_psc(client, psc)
    assert answer.status_code == status
    assert db.session.scalar(select(PageSession.id)) is None
    assert client.get("/gp").status_code == 302
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("fault", ["forged_signature", "expired", "wrong_audience", "wrong_issuer", "wrong_state"])
def test_a_faulty_answer_from_psc_is_refused(client, world, psc, fault, caplog):
    world.gp(world.cpts(), rpps="10003456782")
    psc.next_person(rpps="10003456782")
    psc.misbehave_next(fault)
    assert REFUSED in _refused(client, psc)
    assert WHY[fault] in caplog.text


def test_a_replayed_id_token_is_refused_by_its_nonce(client, world, psc, app, caplog):
    world.gp(world.cpts(), rpps="10003456783")
    psc.next_person(rpps="10003456783")
    _through_psc(client, psc)
    other = app.test_client()
    psc.next_person(rpps="10003456783")
    psc.misbehave_next("replayed_id_token")
    answer = _through_psc(other, psc)
    assert answer.status_code == 401 and REFUSED in answer.get_data(as_text=True)
    assert len(db.session.scalars(select(PageSession.id)).all()) == 1  # the first sign-in's only
    assert "nonce" in caplog.text


def test_an_unknown_rpps_gets_a_french_page_saying_whom_to_ask(client, world, psc):
    world.gp(world.cpts(), rpps="10003456784")
    psc.next_person(rpps="19999999999")
    assert "coordinateur de votre CPTS" in _refused(client, psc, 403)


def test_an_inactive_account_is_not_found(client, world, psc):
    gp = world.gp(world.cpts(), rpps="10003456785")
    gp.active = False
    db.session.commit()
    psc.next_person(rpps="10003456785")
    _refused(client, psc, 403)


@pytest.mark.parametrize("acr", ["eidas0", None])
def test_an_authentication_level_below_eidas1_is_refused(client, world, psc, acr):
    world.gp(world.cpts(), rpps="10003456786")
    psc.next_person(rpps="10003456786", acr=acr)
    _refused(client, psc)


def test_the_person_cancelling_at_psc_is_refused(client, world, psc):
    psc.deny_next()
    _refused(client, psc)


def test_a_callback_without_a_pending_sign_in_is_refused(client, psc):
    assert client.get("/auth/psc/callback?code=abc&state=xyz").status_code == 401


def test_a_signed_userinfo_is_read(client, world, psc):
    world.gp(world.cpts(), rpps="10003456787")
    psc.userinfo_as_jwt = True
    psc.next_person(rpps="10003456787")
    assert _through_psc(client, psc).location == "/gp"


def test_psc_down_at_the_token_endpoint_gives_the_refusal_page(client, world, psc):
    world.gp(world.cpts(), rpps="10003456788")
    psc.next_person(rpps="10003456788")
    back = psc.sign_in(client.get("/login/psc").location)
    psc.down = True
    answer = client.get(back.removeprefix(HOST))
    assert answer.status_code == 401 and REFUSED in answer.get_data(as_text=True)


def test_the_refusal_page_has_the_security_headers_and_no_inline_script(client, psc):
    from .test_security_headers import _assert_security_headers, _audit

    page = client.get("/auth/psc/callback?code=abc&state=xyz")
    _assert_security_headers(page, "/auth/psc/callback")
    assert _audit(page) == []


def test_a_psc_sign_in_is_strong_no_second_factor_is_asked(app, client, world, psc):
    app.config["REQUIRE_SECOND_FACTOR"] = True
    world.gp(world.cpts(), rpps="10003456789")
    psc.next_person(rpps="10003456789")
    assert _through_psc(client, psc).location == "/gp"
    assert client.get("/gp").status_code == 200
