"""One error format for the API, French pages for the UI.

API answers: ``{"error": {"code", "message", "fields"}}`` (OperationOutcome under the FHIR base:
``error_formats``). Unexpected
exceptions are logged (SQL parameters are hidden at the engine, so no
patient data) and answered with a 500 that says nothing more.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ..core.errors import DomainError
from ..core.extensions import db, login_manager
from .error_formats import error_format_for

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "rate_limited", 503: "service_unavailable",
}
# How long a client is asked to wait when the database is unreachable: PostgreSQL restarts in seconds.
RETRY_AFTER_SECONDS = 5
_FRENCH_MESSAGES = {
    400: "Requête invalide", 401: "Authentification requise", 403: "Accès refusé", 404: "Page introuvable",
    405: "Méthode non autorisée", 409: "Conflit", 413: "Envoi trop volumineux", 415: "Format non pris en charge",
    422: "Données invalides", 429: "Trop de tentatives, réessayez dans un instant", 500: "Erreur interne",
    503: "Service momentanément indisponible : réessayez dans quelques secondes",
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.startswith("/notify/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
    if wants_json():  # under the FHIR base (SPEC section 7) the format is OperationOutcome
        error_format = error_format_for(request.path)
        response = jsonify(error_format.render(status, code, message, fields or {}, extra or {}))
        response.mimetype = error_format.media_type
        response.headers.update(error_format.headers.get(status, {}))
        return response, status
    page_message = message if status != 500 else _FRENCH_MESSAGES[500]
    return render_template("error.html", status=status, message=page_message, fields=fields or {}), status


def _webargs_fields(exc: HTTPException) -> dict:
    """webargs puts marshmallow messages under the location ("json", "query"...): flatten it."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            fields.update(location_messages)
    return fields


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        if exc.status == 401 and not wants_json():
            # With its query: the SAS platform's booking link carries ``origin``, which must survive sign-in.
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.extra)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        return error_response(400, "csrf_failed", "Jeton CSRF invalide ou expiré : rechargez la page")

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status = exc.code or 500
        fields = _webargs_fields(exc) if status in (400, 422) else {}
        if fields:
            message = "Invalid fields: " + ", ".join(sorted(fields)) if wants_json() else _FRENCH_MESSAGES[422]
        elif wants_json():
            message = exc.description or _FRENCH_MESSAGES.get(status, exc.name)
        else:
            message = _FRENCH_MESSAGES.get(status, exc.name)
        return error_response(status, _HTTP_CODES.get(status, "http_error"), message, fields)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def handle_database_error(exc: Exception):
        if not database_unavailable(exc):
            return handle_unexpected(exc)
        return unavailable(exc)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        return error_response(500, "internal_error", "Internal error")


def database_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` says the database cannot be reached (down, restarting, file gone, pool exhausted).

    Such an error is not the request's fault nor a bug: it gets a 503 the client may retry,
    and the service recovers by itself (SQLAlchemy drops the dead connections of the pool).
    """
    if isinstance(exc, PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unavailable(exc: Exception):
    """503 with ``Retry-After``: JSON for the API, a French page (which must not need the database) for pages."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool discards it  # noqa: BLE001
        pass
    # One line, no traceback: an outage would otherwise flood the log. The driver's class says enough.
    log.warning("database unavailable on %s %s: %s", request.method, request.url_rule,
                type(getattr(exc, "orig", None) or exc).__name__)
    if "_login_user" not in g:
        # The page's header asks who is signed in, which would query the database again.
        g._login_user = login_manager.anonymous_user()
    body, status = error_response(503, "database_unavailable", _FRENCH_MESSAGES[503])
    response = make_response(body, status)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
