"""A stand-in for Pro Santé Connect (PSC) on 127.0.0.1, for tests: an OpenID Connect provider with its own keys.

It lays its endpoints out as the real one does (a Keycloak realm ``esante-wallet``, the login page on another
path, as PSC's is on another host) and answers what PSC answers, including its userinfo claims
(``SubjectNameID``, ``SubjectRefPro`` with ``exercices`` and ``activities``). There is no login form: a test
says beforehand who signs in next (``next_person``), and the authorize endpoint redirects straight back.

It is stricter than PSC where issue 25 asks more of the client: ``state``, ``nonce`` and a PKCE S256
challenge are required, scopes are limited to ``openid scope_all``, redirect URIs match exactly.

Refusal tests make it misbehave for the next sign-in only (``misbehave_next``): a forged signature, an
expired ID token, a wrong audience or issuer, a replayed ID token (old nonce), a tampered ``state``. A person
with ``acr="eidas0"`` (or ``acr=None``) or with an RPPS known to nobody covers the other refusals.

Every request is recorded (``requests``, ``calls(endpoint)``) for assertions.

Use::

    psc = FakePsc(redirect_uris=["http://localhost/auth/psc/callback"],
                  post_logout_redirect_uris=["http://localhost/login"]).start()
    app = create_app({..., **psc.config()})            # PSC_ISSUER, PSC_CLIENT_ID, PSC_CLIENT_SECRET
    psc.next_person(rpps="10003456789")                  # SubjectNameID "810003456789"
    callback = psc.sign_in(client.get("/login/psc").headers["Location"])   # what the browser would do
    client.get(callback.removeprefix("http://localhost"))
    ...
    psc.stop()

A browser test lets Chromium follow the redirects (register the live server's callback URL). Also:
``deny_next()`` (the person cancels), ``down = True`` (503 everywhere), ``rotate_keys()``,
``userinfo_as_jwt = True`` (a signed userinfo, which PSC may send), ``reset()`` (one provider, many tests).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit, unquote

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from .loopback import LoopbackHttp

REALM = "/auth/realms/esante-wallet"
OIDC = REALM + "/protocol/openid-connect"
# PSC's own layout: the login page lives on wallet.<env>.esante.gouv.fr/auth, the rest under the realm.
PATHS = {
    "discovery": REALM + "/.well-known/openid-configuration",
    # PSC publishes its metadata (with the wallet's login page) under this non-standard name; served too.
    "wallet_discovery": REALM + "/.well-known/wallet-openid-configuration",
    "authorize": "/auth",
    "token": OIDC + "/token",
    "userinfo": OIDC + "/userinfo",
    "jwks": OIDC + "/certs",
    "end_session": OIDC + "/logout",
}
SCOPES = ("openid", "scope_all")
ACR_VALUES = ("eidas1", "eidas2", "eidas3")
FAULTS = ("forged_signature", "expired", "wrong_audience", "wrong_issuer", "replayed_id_token", "wrong_state")


@dataclass
class PscPerson:
    """Who signs in at the fake PSC. ``subject_name_id`` is the national identifier PSC returns (``8`` + RPPS)."""

    rpps: str | None = None
    subject_name_id: str | None = None
    acr: str | None = "eidas1"
    given_name: str = "Camille"
    family_name: str = "Martin"
    profession_code: str = "10"  # médecin (NOS TRE_G15)
    savoir_faire: str = "SM54"  # médecine générale (NOS TRE_R38)
    userinfo_extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.subject_name_id is None:
            if not self.rpps:
                raise ValueError("a PSC person needs an rpps or a subject_name_id")
            self.subject_name_id = "8" + self.rpps

    def userinfo(self, sub: str) -> dict:
        """The userinfo PSC answers for ``scope_all`` (field names as PSC spells them)."""
        site = f"CABINET DR {self.family_name.upper()}"
        claims = {
            "sub": sub,
            "SubjectNameID": self.subject_name_id,
            "preferred_username": self.subject_name_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "codeCivilite": "M",
            "SubjectRole": [f"{self.profession_code}^1.2.250.1.213.1.1.5.5"],
            "SubjectOrganization": site,
            "SubjectOrganizationID": "R10100000000001",
            "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
            "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "Acces_Regulation_Medicale": "FAUX",
            "Mode_Acces_Raison": "",
            "PSI_Locale": "1.2.250.1.213.1.3.1.1",
            "UITVersion": "1.0",
            # A sandbox sample shows origine "EDIT" for an editor's test identity; "RPPS" here is an assumption.
            "otherIds": [{"identifiant": self.subject_name_id, "origine": "RPPS", "qualite": 1}],
            "SubjectRefPro": {"codeCivilite": "M", "exercices": [{
                "codeProfession": self.profession_code, "codeCategorieProfessionnelle": "C",
                "codeCiviliteDexercice": "DR", "nomDexercice": self.family_name.upper(),
                "prenomDexercice": self.given_name, "codeTypeSavoirFaire": "S", "codeSavoirFaire": self.savoir_faire,
                "activities": [{
                    "codeModeExercice": "L", "codeSecteurDactivite": "SA07", "codeSectionPharmacien": "",
                    "codeRole": "", "codeGenreActivite": "GENR01", "numeroSiretSite": "", "numeroSirenSite": "",
                    "numeroFinessSite": "", "numeroFinessetablissementJuridique": "",
                    "identifiantTechniqueDeLaStructure": "R10100000000001", "raisonSocialeSite": site,
                    "enseigneCommercialeSite": "", "complementDestinataire": site, "complementPointGeographique": "",
                    "numeroVoie": "1", "indiceRepetitionVoie": "", "codeTypeDeVoie": "R", "libelleVoie": "DE LA GARE",
                    "mentionDistribution": "", "bureauCedex": "85000 LA ROCHE-SUR-YON", "codePostal": "85000",
                    "codeCommune": "85191", "codePays": "99000", "telephone": "", "telephone2": "", "telecopie": "",
                    "adresseEMail": "", "codeDepartement": "85", "ancienIdentifiantDeLaStructure": "",
                    "autoriteDenregistrement": "CNOM/CNOM/CNOM",
                }],
            }]},
        }
        claims.update(self.userinfo_extra)
        return claims


@dataclass
class Recorded:
    endpoint: str
    method: str
    path: str
    query: dict
    form: dict
    headers: dict
    at: float


@dataclass
class _Grant:
    """What an authorization code stands for until the token endpoint spends it."""

    person: PscPerson
    redirect_uri: str
    code_challenge: str
    nonce: str
    scope: str
    auth_time: int
    sid: str
    faults: set
    issued_at: float
    used: bool = False


class FakePsc:
    def __init__(self, client_id: str = "snp-service-test", client_secret: str = "psc-test-secret",
                 redirect_uris: list[str] | None = None, post_logout_redirect_uris: list[str] | None = None):
        self.client_id = client_id
        self.client_secret = client_secret
        # Registered with the provider, as a CPTS registers them with the ANS; matched exactly. Append freely.
        self.redirect_uris = list(redirect_uris or [])
        self.post_logout_redirect_uris = list(post_logout_redirect_uris or [])
        self.code_lifetime = 60
        self.id_token_lifetime = 300
        self.access_token_lifetime = 300
        self.userinfo_as_jwt = False  # PSC answers JSON; set to answer a signed JWT (application/jwt) instead.
        self.down = False  # every endpoint answers 503
        self.requests: list[Recorded] = []
        self.issued_id_tokens: list[str] = []
        self.ended_sessions: list[str] = []  # the ``sid`` of each PSC session ended by end_session
        self.key = _new_key()
        self._retired_keys: list[RSAKey] = []
        self._forger: RSAKey | None = None
        self._realm_id = str(uuid.uuid4())
        self._people: list[PscPerson | tuple[str, str]] = []
        self._faults: set[str] = set()
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, tuple[PscPerson, str, float]] = {}
        self._lock = threading.Lock()
        self.http = LoopbackHttp(_handler_for(self))

    def reset(self) -> None:
        """Forget people, faults, codes, tokens, sessions and records (keys stay): one provider, many tests."""
        with self._lock:
            self.requests.clear()
            self.issued_id_tokens.clear()
            self.ended_sessions.clear()
            self._people.clear()
            self._faults.clear()
            self._grants.clear()
            self._access_tokens.clear()
            self.down = self.userinfo_as_jwt = False

    # -- driving it from a test ---------------------------------------------------------------------------
    def start(self) -> "FakePsc":
        self.http.start()
        return self

    def stop(self) -> None:
        self.http.stop()

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def issuer(self) -> str:
        return self.base_url + REALM

    @property
    def metadata_url(self) -> str:
        return self.base_url + PATHS["discovery"]

    def url(self, endpoint: str) -> str:
        return self.base_url + PATHS[endpoint]

    def config(self) -> dict:
        """The service's settings (issue 25) pointing at this provider."""
        return {"PSC_ISSUER": self.issuer, "PSC_CLIENT_ID": self.client_id, "PSC_CLIENT_SECRET": self.client_secret}

    def next_person(self, rpps: str | None = None, **fields) -> PscPerson:
        """Queue who signs in at the next authorize request (first queued, first served)."""
        person = PscPerson(rpps=rpps, **fields)
        with self._lock:
            self._people.append(person)
        return person

    def deny_next(self, error: str = "access_denied", description: str = "L'utilisateur a annulé") -> None:
        """The next authorize request ends in an error sent back to the client (the person cancels)."""
        with self._lock:
            self._people.append((error, description))

    def misbehave_next(self, *faults: str) -> None:
        """Apply these faults (see ``FAULTS``) to the next sign-in only."""
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        if "replayed_id_token" in faults and not self.issued_id_tokens:
            raise RuntimeError("a replayed ID token needs an earlier sign-in")
        with self._lock:
            self._faults |= set(faults)

    def rotate_keys(self) -> None:
        """Sign with a new key from now on; the old one leaves the JWKS (clients must fetch it again)."""
        with self._lock:
            self._retired_keys.append(self.key)
            self.key = _new_key()

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def sign_in(self, authorize_url: str) -> str:
        """Do what the browser does at PSC: open the authorize URL; return where PSC sends it back."""
        answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
        if answer.status_code != 302:
            raise AssertionError(f"PSC refused the authorize request: {answer.status_code} {answer.text}")
        return answer.headers["Location"]

    # -- tokens ----------------------------------------------------------------------------------------------
    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("authorize"),
            "token_endpoint": self.url("token"),
            "userinfo_endpoint": self.url("userinfo"),
            "jwks_uri": self.url("jwks"),
            "end_session_endpoint": self.url("end_session"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "acr_values_supported": list(ACR_VALUES),
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "azp", "sid",
                                 "SubjectNameID", "SubjectRefPro", "given_name", "family_name", "preferred_username"],
        }

    def _sign(self, claims: dict, key: RSAKey | None = None) -> str:
        key = key or self.key
        # A forged token carries the genuine kid: the client finds the key, and the signature does not match.
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": self.key.kid}, claims, key)

    def _id_token(self, grant: _Grant, access_token: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "azp": self.client_id, "sub": self._sub(grant.person),
            "iat": now, "exp": now + self.id_token_lifetime, "auth_time": grant.auth_time, "jti": str(uuid.uuid4()),
            "typ": "ID", "nonce": grant.nonce, "sid": grant.sid, "session_state": grant.sid,
            "at_hash": _half_hash(access_token),
        }
        if grant.person.acr is not None:
            claims["acr"] = grant.person.acr
        if "expired" in grant.faults:
            claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
        if "wrong_audience" in grant.faults:
            # azp stays ours: Authlib's default check then passes (it only compares azp), an explicit aud check fails.
            claims["aud"] = "another-service"
        if "wrong_issuer" in grant.faults:
            claims["iss"] = self.base_url + "/auth/realms/another-realm"
        if "forged_signature" in grant.faults:
            self._forger = self._forger or _new_key()
            return self._sign(claims, self._forger)
        return self._sign(claims)

    def _sub(self, person: PscPerson) -> str:
        # Keycloak's federated subject, as PSC sends it: stable per person, not the national identifier itself.
        return f"f:{self._realm_id}:{person.subject_name_id}"

    def verify_issued(self, token: str) -> dict:
        """The claims of an ID token this provider signed (any key it used), whatever its age; else ValueError."""
        keys = KeySet([self.key, *self._retired_keys])
        try:
            return jwt.decode(token, keys, algorithms=["RS256"]).claims
        except (JoseError, ValueError) as error:
            raise ValueError(f"not an ID token of this provider: {error}") from error

    # -- endpoints ---------------------------------------------------------------------------------------------
    def _authorize(self, query: dict) -> tuple[int, dict, object]:
        if query.get("client_id") != self.client_id:
            return 400, {}, {"error": "invalid_request", "error_description": "Client not found."}
        redirect_uri = query.get("redirect_uri")
        if redirect_uri not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "Invalid parameter: redirect_uri"}

        def back(**params) -> tuple[int, dict, object]:
            return 302, {"Location": _add_query(redirect_uri, params)}, None

        state = query.get("state")
        problem = _authorize_problem(query)
        if problem:
            return back(error=problem[0], error_description=problem[1], state=state)
        with self._lock:
            if not self._people:
                return 409, {}, {"error": "fake_psc", "error_description": "no person queued: call next_person"}
            who = self._people.pop(0)
            faults, self._faults = self._faults, set()
        if isinstance(who, tuple):
            return back(error=who[0], error_description=who[1], state=state)
        code, sid = secrets.token_urlsafe(32), str(uuid.uuid4())
        with self._lock:
            self._grants[code] = _Grant(who, redirect_uri, query["code_challenge"], query["nonce"], query["scope"],
                                        int(time.time()), sid, faults, time.time())
        if "wrong_state" in faults:
            state = secrets.token_urlsafe(16)
        return back(state=state, session_state=sid, code=code)

    def _token(self, form: dict, authorization: str | None) -> tuple[int, dict, object]:
        client = _client_credentials(form, authorization)
        if client is None:
            return 400, {}, {"error": "invalid_request", "error_description": "one client authentication method"}
        if client != (self.client_id, self.client_secret):
            return 401, {"WWW-Authenticate": 'Basic realm="esante-wallet"'}, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {}, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            refusal = _grant_problem(grant, form, self.code_lifetime)
            if grant is not None:
                grant.used = True
        if refusal:
            return 400, {}, {"error": "invalid_grant", "error_description": refusal}
        access_token = secrets.token_urlsafe(32)
        id_token = self._id_token(grant, access_token)
        with self._lock:
            self._access_tokens[access_token] = (grant.person, self._sub(grant.person),
                                                 time.time() + self.access_token_lifetime)
            if "replayed_id_token" in grant.faults:
                id_token = self.issued_id_tokens[-1]
            else:
                self.issued_id_tokens.append(id_token)
        return 200, {"Cache-Control": "no-store"}, {
            "access_token": access_token, "token_type": "Bearer", "expires_in": self.access_token_lifetime,
            "id_token": id_token, "scope": grant.scope, "session_state": grant.sid, "not-before-policy": 0}

    def _userinfo(self, authorization: str | None, form: dict) -> tuple[int, dict, object]:
        token = (authorization or "").removeprefix("Bearer ").strip() or form.get("access_token", "")
        with self._lock:
            found = self._access_tokens.get(token)
        if found is None or found[2] < time.time():
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {"error": "invalid_token"}
        person, sub, _ = found
        claims = person.userinfo(sub)
        if self.userinfo_as_jwt:
            claims.update(iss=self.issuer, aud=self.client_id)
            return 200, {"Content-Type": "application/jwt"}, self._sign(claims)
        return 200, {}, claims

    def _end_session(self, params: dict) -> tuple[int, dict, object]:
        hint, target = params.get("id_token_hint"), params.get("post_logout_redirect_uri")
        claims = None
        if hint:
            try:
                claims = self.verify_issued(hint)
            except ValueError as error:
                return 400, {}, {"error": "invalid_request", "error_description": str(error)}
        if target:
            if target not in self.post_logout_redirect_uris:
                return 400, {}, {"error": "invalid_request", "error_description": "Invalid redirect uri"}
            if claims is None and params.get("client_id") != self.client_id:
                return 400, {}, {"error": "invalid_request", "error_description": "Missing parameters: id_token_hint"}
        if claims is not None:
            with self._lock:
                self.ended_sessions.append(claims["sid"])
        if target:
            state = params.get("state")
            return 302, {"Location": _add_query(target, {"state": state} if state else {})}, None
        page = "<p>Vous êtes déconnecté de Pro Santé Connect.</p>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    def _record(self, endpoint: str, handler: BaseHTTPRequestHandler, query: dict, form: dict) -> None:
        with self._lock:
            self.requests.append(Recorded(endpoint, handler.command, urlsplit(handler.path).path, query, form,
                                          dict(handler.headers.items()), time.time()))

    def _route(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict, object]:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = {}
        if handler.command == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(handler.rfile.read(length).decode(), keep_blank_values=True))
        endpoint = next((name for name, path in PATHS.items() if path == parts.path), "unknown")
        self._record(endpoint, handler, query, form)
        if self.down:
            return 503, {}, {"error": "temporarily_unavailable"}
        authorization = handler.headers.get("Authorization")
        if endpoint in ("discovery", "wallet_discovery"):
            return 200, {}, self.metadata()
        if endpoint == "jwks":
            return 200, {}, self.jwks()
        if endpoint == "authorize" and handler.command == "GET":
            return self._authorize(query)
        if endpoint == "token" and handler.command == "POST":
            return self._token(form, authorization)
        if endpoint == "userinfo":
            return self._userinfo(authorization, form)
        if endpoint == "end_session":
            return self._end_session({**query, **form})
        return 404, {}, {"error": "not_found"}


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the SHA-256 of the access token (RS256), base64url."""
    return _b64url(hashlib.sha256(value.encode()).digest()[:16])


def _add_query(uri: str, params: dict) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _authorize_problem(query: dict) -> tuple[str, str] | None:
    """What PSC (and issue 25) demands of an authorization request; the first thing wrong, or None."""
    if query.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be code"
    scopes = (query.get("scope") or "").split()
    if "openid" not in scopes or not set(scopes) <= set(SCOPES):
        return "invalid_scope", f"scopes must be within {' '.join(SCOPES)} and include openid"
    for name in ("state", "nonce", "code_challenge"):
        if not query.get(name):
            return "invalid_request", f"missing parameter: {name}"
    if query.get("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if not 43 <= len(query["code_challenge"]) <= 128:
        return "invalid_request", "invalid code_challenge"
    return None


def _grant_problem(grant: _Grant | None, form: dict, code_lifetime: int) -> str | None:
    if grant is None:
        return "Code not valid"
    if grant.used:
        return "Code already used"
    if time.time() - grant.issued_at > code_lifetime:
        return "Code expired"
    if form.get("redirect_uri") != grant.redirect_uri:
        return "Incorrect redirect_uri"
    verifier = form.get("code_verifier") or ""
    if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant.code_challenge:
        return "PKCE verification failed: Code mismatch"
    return None


def _client_credentials(form: dict, authorization: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from client_secret_basic or client_secret_post; None when both or neither are used."""
    posted = "client_secret" in form
    basic = (authorization or "").startswith("Basic ")
    if posted == basic:
        return None
    if posted:
        return form.get("client_id", ""), form["client_secret"]
    try:
        client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    except ValueError:
        return "", ""
    # RFC 6749 2.3.1 form-encodes both before Basic; most clients (Authlib included) do not: accept either.
    return unquote(client_id), unquote(secret)


def _handler_for(fake: FakePsc):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            """Keep test output quiet."""

        def _answer(self) -> None:
            status, headers, body = fake._route(self)
            if isinstance(body, (dict, list)):
                payload = json.dumps(body).encode()
                headers.setdefault("Content-Type", "application/json")
            else:
                payload = (body or "").encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

    return Handler
