"""The OpenID Connect client of Pro Santé Connect: authorization code with PKCE (S256), with Authlib.

``begin`` makes the authorize URL and what the browser's session must keep (``state``, ``nonce``, the PKCE
verifier); ``finish`` takes PSC's answer back, spends the code at the token endpoint, checks the ID token
(signature against PSC's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``, ``acr`` at least eidas1) and reads
userinfo (JSON, or a signed JWT checked as the ID token). The provider's metadata and keys are cached per
process; an unknown key id fetches the JWKS again (PSC rotates its keys). Every failure is ``PscRefused``,
whose message is French and names no secret. This module speaks HTTP and knows no account: ``psc`` does.
"""
from __future__ import annotations

import threading

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken, UserInfo
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..core.errors import Unauthorized
from .psc import ACCEPTED_ACR

# Seconds of clock difference allowed with PSC on exp/iat.
LEEWAY = 60
_cache: dict[str, dict] = {}
_lock = threading.Lock()


class PscRefused(Unauthorized):
    code = "psc_refused"

    def __init__(self, reason: str):
        super().__init__("La connexion par Pro Santé Connect n'a pas abouti. Réessayez ; si cela se reproduit, "
                         "connectez-vous avec votre e-mail et votre mot de passe.", extra={"reason": reason})
        self.reason = reason


def _settings() -> dict:
    config = current_app.config
    return {"issuer": config["PSC_ISSUER"].rstrip("/"), "client_id": config["PSC_CLIENT_ID"],
            "client_secret": config["PSC_CLIENT_SECRET"], "scope": config.get("PSC_SCOPES") or "openid scope_all",
            "timeout": float(config.get("PSC_TIMEOUT_SECONDS") or 10.0)}


def _get_json(url: str, timeout: float) -> dict:
    try:
        answer = requests.get(url, timeout=timeout)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as error:
        raise PscRefused(f"provider unreachable: {type(error).__name__}") from error


def metadata(refresh: bool = False) -> dict:
    """The provider's OpenID configuration (discovery), fetched once per process and issuer."""
    settings = _settings()
    issuer = settings["issuer"]
    with _lock:
        cached = _cache.get(issuer)
    if cached and not refresh:
        return cached["metadata"]
    found = _get_json(issuer + "/.well-known/openid-configuration", settings["timeout"])
    if found.get("issuer", "").rstrip("/") != issuer:
        raise PscRefused("discovery names another issuer")
    with _lock:
        _cache[issuer] = {"metadata": found, "jwks": None}
    return found


def _keys(refresh: bool = False) -> KeySet:
    meta = metadata()
    issuer = _settings()["issuer"]
    with _lock:
        jwks = _cache[issuer].get("jwks")
    if jwks is None or refresh:
        jwks = _get_json(meta["jwks_uri"], _settings()["timeout"])
        with _lock:
            _cache[issuer]["jwks"] = jwks
    return KeySet.import_key_set(jwks)


def _session(redirect_uri: str, **kwargs) -> OAuth2Session:
    settings = _settings()
    return OAuth2Session(settings["client_id"], settings["client_secret"], scope=settings["scope"],
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic", **kwargs)


def begin(redirect_uri: str) -> tuple[str, dict]:
    """The URL to send the browser to, and what its session keeps until the callback."""
    verifier, nonce = generate_token(48), generate_token(24)
    url, state = _session(redirect_uri).create_authorization_url(
        metadata()["authorization_endpoint"], code_verifier=verifier, nonce=nonce, acr_values=ACCEPTED_ACR[0])
    return url, {"state": state, "nonce": nonce, "verifier": verifier}


def finish(callback_url: str, params: dict, pending: dict | None, redirect_uri: str) -> dict:
    """The checked claims of the person PSC signed in: the ID token's, with userinfo's added (``SubjectNameID``),
    and ``id_token`` (for ending the PSC session). ``PscRefused`` on any failure."""
    if not pending or not params.get("state") or params.get("state") != pending.get("state"):
        raise PscRefused("state mismatch")
    if params.get("error"):
        raise PscRefused(f"provider error: {str(params['error'])[:60]}")
    meta = metadata()
    client = _session(redirect_uri, state=pending["state"])
    try:
        token = client.fetch_token(meta["token_endpoint"], authorization_response=callback_url,
                                   state=pending["state"], code_verifier=pending["verifier"],
                                   timeout=_settings()["timeout"])
    except (OAuth2Error, requests.RequestException, ValueError) as error:
        raise PscRefused(f"token endpoint: {type(error).__name__}") from error
    if not token.get("id_token"):
        raise PscRefused("no ID token")
    claims = _check_id_token(token, pending["nonce"], meta)
    info = _userinfo(client, meta, claims["sub"])
    return {**info, **claims, "id_token": token["id_token"]}


def _decode(token: str, meta: dict):
    algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in algorithms if a != "none"]
    try:
        return jwt.decode(token, _keys(), algorithms=algorithms)
    except JoseError:
        # A key PSC has just rotated in is not in the cached set yet: fetch the keys once more.
        try:
            return jwt.decode(token, _keys(refresh=True), algorithms=algorithms)
        except (JoseError, ValueError) as error:
            raise PscRefused(f"signature: {type(error).__name__}") from error
    except ValueError as error:
        raise PscRefused(f"malformed token: {type(error).__name__}") from error


def _check_id_token(token: dict, nonce: str, meta: dict) -> dict:
    decoded = _decode(token["id_token"], meta)
    client_id = _settings()["client_id"]
    claims = CodeIDToken(decoded.claims, decoded.header, {
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "nonce": {"essential": True},
        "acr": {"essential": True, "values": list(ACCEPTED_ACR)},
    }, {"nonce": nonce, "client_id": client_id, "access_token": token.get("access_token")})
    try:
        claims.validate(leeway=LEEWAY)
    except (JoseError, ValueError) as error:
        raise PscRefused(f"ID token: {type(error).__name__} {getattr(error, 'description', '')}"[:120]) from error
    audience = claims.get("aud")
    if client_id not in (audience if isinstance(audience, list) else [audience]):
        raise PscRefused("ID token: wrong audience")
    return dict(claims)


def _userinfo(client: OAuth2Session, meta: dict, subject: str) -> dict:
    try:
        answer = client.get(meta["userinfo_endpoint"], timeout=_settings()["timeout"])
        answer.raise_for_status()
    except (OAuth2Error, requests.RequestException) as error:
        raise PscRefused(f"userinfo: {type(error).__name__}") from error
    if answer.headers.get("Content-Type", "").startswith("application/jwt"):
        decoded = _decode(answer.text.strip(), meta)
        info = UserInfo(decoded.claims)
        if decoded.claims.get("iss") != meta["issuer"] or _settings()["client_id"] not in (
                decoded.claims.get("aud") if isinstance(decoded.claims.get("aud"), list) else [decoded.claims.get("aud")]):
            raise PscRefused("userinfo: wrong issuer or audience")
    else:
        try:
            info = UserInfo(answer.json())
        except ValueError as error:
            raise PscRefused("userinfo: not JSON") from error
    if info.get("sub") != subject:
        raise PscRefused("userinfo: another subject")
    return dict(info)


def end_session_url(id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser so PSC ends its session too, when the provider offers end_session_endpoint."""
    try:
        endpoint = metadata().get("end_session_endpoint")
    except PscRefused:
        return None
    if not endpoint:
        return None
    from urllib.parse import urlencode

    params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": _settings()["client_id"]}
    if id_token:
        params["id_token_hint"] = id_token
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)
