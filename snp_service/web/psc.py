"""Sign-in with Pro Santé Connect: ``/login/psc`` sends the browser to PSC, ``/auth/psc/callback`` takes it back.

The protocol is ``accounts.psc_client``; which account opens is ``accounts.psc``. A PSC sign-in opens the page
session as the password does (``_open_page_session``) and keeps the ID token in the session, so signing out
also ends the PSC session (``end_session_endpoint``). The SAS platform's booking link opened by someone not
signed in goes straight to PSC when it is configured (``login`` sends it here).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from ..accounts import psc, psc_client
from ..core.errors import DomainError
from .redirects import local_target

bp = Blueprint("psc", __name__)
# What the browser's session keeps between /login/psc and the callback, and after sign-in.
PENDING_KEY, ID_TOKEN_KEY = "_snp_psc_pending", "_snp_psc_id_token"
SAS_LINK_PREFIX = "/regulation/praticien/"


def is_sas_booking_link(target: str | None) -> bool:
    """Whether ``target`` (a local path) is the SAS platform's booking link: a practitioner's page with ``origin``."""
    if not target:
        return False
    parts = urlsplit(target)
    return parts.path.startswith(SAS_LINK_PREFIX) and "origin" in parse_qs(parts.query)


def _callback_url() -> str:
    return url_for("psc.callback", _external=True)


@bp.get("/login/psc")
def start():
    if not psc.configured():
        abort(404)
    target = local_target(request.args.get("next"))
    try:
        url, pending = psc_client.begin(_callback_url())
    except DomainError as refused:
        return _refused(refused, target)
    session[PENDING_KEY] = {**pending, "next": target}
    return redirect(url)


@bp.get("/auth/psc/callback")
def callback():
    if not psc.configured():
        abort(404)
    from . import _open_page_session, home_url

    pending = session.pop(PENDING_KEY, None)
    target = (pending or {}).get("next")
    try:
        claims = psc_client.finish(request.url, request.args.to_dict(), pending, _callback_url())
        user = psc.account_for(claims.get("SubjectNameID"), prefer_regulator=is_sas_booking_link(target))
    except DomainError as refused:
        return _refused(refused, target)
    _open_page_session(user)
    session[ID_TOKEN_KEY] = claims["id_token"]
    return redirect(target or home_url(user))


def _refused(refused: DomainError, target: str | None):
    # Why, for the operators (no token, no secret, no patient): the person sees one French message.
    current_app.logger.warning("PSC sign-in refused: %s", refused.extra.get("reason", refused.code))
    status = refused.status if refused.status in (401, 403) else 401
    password_url = url_for("pages.login", next=target, mode="password") if target else url_for(
        "pages.login", mode="password")
    return render_template("psc_refused.html", message=refused.message, password_url=password_url,
                           retry_url=url_for("psc.start", next=target) if target else url_for("psc.start")), status


def end_session_target(id_token: str | None) -> str | None:
    """Where signing out sends the browser so that PSC ends its session too (None: no PSC session, or no endpoint)."""
    if not id_token or not psc.configured():
        return None
    return psc_client.end_session_url(id_token, url_for("pages.login", _external=True))
