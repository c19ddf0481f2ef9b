"""The fake Pro Santé Connect behaves as a real OpenID Connect provider, seen from Authlib's own client.

No Flask here: Authlib's requests client runs the code flow with PKCE, and the ID token is checked as Authlib's
Flask client checks it (``parse_id_token``: the JWKS, then ``CodeIDToken`` claims), plus ``aud`` and ``acr``
made explicit as issue 25 requires. Each misbehaviour of the fake must fail that same check.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, InvalidKeyIdError, MissingClaimError
from joserfc.jwk import KeySet

from .fake_psc import FakePsc

CALLBACK = "http://localhost/auth/psc/callback"
AFTER_LOGOUT = "http://localhost/login"
RPPS = "10003456789"


@pytest.fixture(scope="module")
def provider():
    fake = FakePsc(redirect_uris=[CALLBACK], post_logout_redirect_uris=[AFTER_LOGOUT]).start()
    yield fake
    fake.stop()


@pytest.fixture
def psc(provider):
    provider.reset()
    return provider


class RelyingParty:
    """What the service will do, with Authlib's client: discovery, authorize, token, ID token check, userinfo."""

    def __init__(self, psc: FakePsc, auth_method: str = "client_secret_basic"):
        self.psc = psc
        self.metadata = requests.get(psc.metadata_url, timeout=5).json()
        self.jwks = requests.get(self.metadata["jwks_uri"], timeout=5).json()
        self.client = OAuth2Session(psc.client_id, psc.client_secret, scope="openid scope_all", redirect_uri=CALLBACK,
                                    code_challenge_method="S256", token_endpoint_auth_method=auth_method)

    def authorize_url(self) -> str:
        self.verifier, self.nonce = generate_token(48), generate_token(20)
        url, self.state = self.client.create_authorization_url(
            self.metadata["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce,
            acr_values="eidas1")
        return url

    def token(self, callback: str) -> dict:
        return self.client.fetch_token(self.metadata["token_endpoint"], authorization_response=callback,
                                       state=self.state, code_verifier=self.verifier)

    def sign_in(self) -> tuple[dict, CodeIDToken]:
        token = self.token(self.psc.sign_in(self.authorize_url()))
        return token, self.check_id_token(token)

    def check_id_token(self, token: dict) -> CodeIDToken:
        decoded = jwt.decode(token["id_token"], KeySet.import_key_set(self.jwks),
                             algorithms=self.metadata["id_token_signing_alg_values_supported"])
        claims = CodeIDToken(decoded.claims, decoded.header, {
            "iss": {"essential": True, "value": self.metadata["issuer"]},
            "aud": {"essential": True, "value": self.psc.client_id},
            "acr": {"essential": True, "values": ["eidas1", "eidas2", "eidas3"]},
        }, {"nonce": self.nonce, "client_id": self.psc.client_id, "access_token": token["access_token"]})
        claims.validate(leeway=120)
        return claims

    def userinfo(self) -> dict:
        answer = self.client.get(self.metadata["userinfo_endpoint"])
        answer.raise_for_status()
        return answer.json()


def test_discovery_and_jwks_describe_a_psc_like_provider(psc):
    metadata = requests.get(psc.metadata_url, timeout=5).json()
    assert requests.get(psc.url("wallet_discovery"), timeout=5).json() == metadata
    assert metadata["issuer"] == psc.issuer and psc.issuer.endswith("/auth/realms/esante-wallet")
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "eidas1" in metadata["acr_values_supported"]
    assert not metadata["authorization_endpoint"].startswith(psc.issuer)  # PSC's login page is elsewhere
    for name in ("token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert metadata[name].startswith(psc.issuer)
    keys = requests.get(metadata["jwks_uri"], timeout=5).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"], "d" in k) for k in keys] == [("RSA", "RS256", "sig", False)]


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_with_pkce_signs_in_the_person_the_test_chose(psc, auth_method):
    psc.next_person(rpps=RPPS, given_name="Jeanne", family_name="Durand")
    rp = RelyingParty(psc, auth_method)

    token, claims = rp.sign_in()

    assert claims["acr"] == "eidas1" and claims["nonce"] == rp.nonce
    userinfo = rp.userinfo()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["SubjectNameID"] == userinfo["preferred_username"] == "8" + RPPS
    assert (userinfo["given_name"], userinfo["family_name"]) == ("Jeanne", "Durand")
    exercise = userinfo["SubjectRefPro"]["exercices"][0]
    assert exercise["codeProfession"] == "10" and exercise["activities"][0]["codeModeExercice"] == "L"
    authorize, = psc.calls("authorize")
    assert authorize.query["code_challenge_method"] == "S256" and authorize.query["acr_values"] == "eidas1"
    assert authorize.query["scope"] == "openid scope_all" and authorize.query["nonce"] == rp.nonce
    sent, = psc.calls("token")
    assert sent.form["code_verifier"] == rp.verifier
    assert ("Authorization" in sent.headers) == (auth_method == "client_secret_basic")
    assert ("client_secret" in sent.form) == (auth_method == "client_secret_post")


def test_the_national_identifier_may_be_the_rpps_alone(psc):
    psc.next_person(subject_name_id=RPPS)
    rp = RelyingParty(psc)
    rp.sign_in()
    assert rp.userinfo()["SubjectNameID"] == RPPS


def test_the_provider_refuses_a_careless_client(psc):
    psc.next_person(rpps=RPPS)
    psc.next_person(rpps=RPPS)
    rp = RelyingParty(psc)
    url = rp.authorize_url()
    without_pkce = url.replace("code_challenge_method=S256", "code_challenge_method=plain")
    assert parse_qs(urlsplit(psc.sign_in(without_pkce)).query)["error"] == ["invalid_request"]
    elsewhere = requests.get(url.replace("localhost", "evil.example"), allow_redirects=False, timeout=5)
    assert elsewhere.status_code == 400  # an unregistered redirect_uri: an error page, never a redirect

    callback = psc.sign_in(url)
    with pytest.raises(OAuthError, match="invalid_grant"):  # the PKCE verifier of another flow
        rp.client.fetch_token(rp.metadata["token_endpoint"], authorization_response=callback, state=rp.state,
                              code_verifier=generate_token(48))
    with pytest.raises(OAuthError, match="invalid_grant"):  # a code is spent by its first use
        rp.token(callback)

    stranger = OAuth2Session(psc.client_id, "wrong-secret", redirect_uri=CALLBACK)
    with pytest.raises(OAuthError, match="invalid_client"):
        stranger.fetch_token(rp.metadata["token_endpoint"], code="x", code_verifier=rp.verifier)


@pytest.mark.parametrize(("fault", "error", "claim"), [
    ("forged_signature", BadSignatureError, None),
    ("expired", ExpiredTokenError, "exp"),
    ("wrong_audience", InvalidClaimError, "aud"),
    ("wrong_issuer", InvalidClaimError, "iss"),
    ("replayed_id_token", InvalidClaimError, "nonce"),
])
def test_each_forged_id_token_fails_the_check_a_genuine_one_passes(psc, fault, error, claim):
    psc.next_person(rpps=RPPS)
    psc.next_person(rpps=RPPS)
    RelyingParty(psc).sign_in()  # genuine: passes (and gives the replay its earlier token)

    psc.misbehave_next(fault)
    rp = RelyingParty(psc)
    token = rp.token(psc.sign_in(rp.authorize_url()))
    with pytest.raises(error) as refused:
        rp.check_id_token(token)
    assert getattr(refused.value, "claim", None) == claim


def test_a_tampered_state_is_caught_before_the_code_is_spent(psc):
    psc.next_person(rpps=RPPS)
    psc.misbehave_next("wrong_state")
    rp = RelyingParty(psc)
    with pytest.raises(MismatchingStateException):
        rp.token(psc.sign_in(rp.authorize_url()))
    assert psc.calls("token") == []


@pytest.mark.parametrize(("acr", "error"), [("eidas0", InvalidClaimError), (None, MissingClaimError)])
def test_an_authentication_below_eidas1_fails_the_acr_check(psc, acr, error):
    psc.next_person(rpps=RPPS, acr=acr)
    with pytest.raises(error) as refused:
        RelyingParty(psc).sign_in()
    assert refused.value.claim == "acr"


def test_a_person_who_cancels_comes_back_with_an_error_and_the_state(psc):
    psc.deny_next()
    rp = RelyingParty(psc)
    back = parse_qs(urlsplit(psc.sign_in(rp.authorize_url())).query)
    assert back["error"] == ["access_denied"] and back["state"] == [rp.state] and "code" not in back


def test_rotated_keys_need_the_jwks_fetched_again(psc):
    psc.next_person(rpps=RPPS)
    rp = RelyingParty(psc)
    psc.rotate_keys()
    token = rp.token(psc.sign_in(rp.authorize_url()))
    with pytest.raises(InvalidKeyIdError):
        rp.check_id_token(token)
    rp.jwks = requests.get(rp.metadata["jwks_uri"], timeout=5).json()
    assert rp.check_id_token(token)["sub"]


def test_end_session_ends_the_psc_session_and_comes_back(psc):
    psc.next_person(rpps=RPPS)
    token, claims = RelyingParty(psc).sign_in()
    logout = psc.url("end_session")

    back = requests.get(logout, params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT,
                                        "state": "s1"}, allow_redirects=False, timeout=5)

    assert (back.status_code, back.headers["Location"]) == (302, AFTER_LOGOUT + "?state=s1")
    assert psc.ended_sessions == [claims["sid"]]
    assert psc.calls("end_session")[0].query["id_token_hint"] == token["id_token"]
    elsewhere = requests.get(logout, params={"id_token_hint": token["id_token"],
                                             "post_logout_redirect_uri": "http://evil.example/"},
                             allow_redirects=False, timeout=5)
    assert elsewhere.status_code == 400


def test_a_provider_that_is_down_answers_503(psc):
    psc.down = True
    assert requests.get(psc.metadata_url, timeout=5).status_code == 503
