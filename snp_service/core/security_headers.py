"""Security headers on every answer, pages and API alike (SPEC section 8), through flask-talisman.

- Content-Security-Policy: scripts only from this origin, never inline (no ``<script>`` body, no
  ``on...=`` attribute, no ``javascript:`` URL); styles from this origin or a ``<style>`` element
  carrying the request's nonce (``csp_nonce()`` in templates; the standalone HTML report inlines its
  CSS so it still reads once downloaded); every other resource from this origin only; nobody may
  frame a page (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older browsers).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (CSRF checks over HTTPS read
  the referrer of our own forms; no other site gets one), HSTS in production only.
- No redirect to HTTPS here: nginx does that in front (``deploy/nginx/snp.conf``).
- ``Cache-Control: no-store`` (``no_store_unless_declared``): patient data must stay in no browser or
  proxy cache, so no answer is cacheable unless its view says so (static files, the public FHIR
  publication), and no answer to a signed-in caller ever is, whatever its view said.
"""
from __future__ import annotations

from flask import Flask, Response, g
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # Swagger UI draws its icons as data: URLs.
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HSTS_SECONDS = 365 * 24 * 3600


class SnpTalisman(Talisman):
    def _set_referrer_policy_headers(self, headers):
        # A view that asks for a stricter policy keeps it (the calendar feed: no referrer at all).
        headers.setdefault("Referrer-Policy", self.referrer_policy)


def no_store_unless_declared(response: Response) -> Response:
    """The one caching rule of the service (issue 28): ``no-store`` on every answer to a signed-in caller
    (bookings, lists, the console's JSON, every page showing patients) and on every answer whose view
    declared no ``Cache-Control`` of its own (errors, the calendar feed, the patient's own page...)."""
    if _signed_in() or "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in() -> bool:
    """Whether this request's caller was resolved as signed in (a bearer token, or a page session that a
    view loaded): never loads the session user itself, so a static file costs no session look-up."""
    session_user = g.get("_login_user")  # flask-login keeps the request's user here once something asked
    return g.get("api_user") is not None or bool(session_user is not None and session_user.is_authenticated)


def install_security_headers(app: Flask) -> None:
    production = app.config["CONFIG_NAME"] == "production"
    # One instance per app: Talisman keeps its options on itself, so a shared one would give every app
    # the options of the last app built (tests build several).
    app.extensions["snp_talisman"] = SnpTalisman(
        app,
        force_https=False,
        strict_transport_security=production,
        strict_transport_security_max_age=HSTS_SECONDS,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["style-src"],
        referrer_policy="same-origin",
        x_content_type_options=True,
    )
    app.after_request(no_store_unless_declared)
