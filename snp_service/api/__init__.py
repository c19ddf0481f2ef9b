"""The JSON API under /api/v1: blueprints, bearer authentication, OpenAPI."""
from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user as session_user

from ..accounts.tokens import user_for_token
from ..core.errors import Unauthorized
from ..core.extensions import api, csrf
from .blueprint import Blueprint
from .errors import register_error_handlers
from .openapi import ErrorResponsesPlugin

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def register_api(app: Flask) -> None:
    from . import (auth, bookings, calendar_feed, cpts, docs, fhir, fhir_sas, health, imports, practitioners,
                   reports, search, seasons, slot_requests, slots, supplements, twilio_status, users)

    api.init_app(app, spec_kwargs={
        "extra_plugins": [ErrorResponsesPlugin(app)],
        "info": {"description": "SNP service: publish, search and book unscheduled-care slots."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    # search before slots: /slots/search must not be read as a slot id.
    for module in (auth, cpts, practitioners, users, search, slots, bookings, slot_requests, seasons, reports,
                   supplements, imports, fhir):
        register_api_blueprint(module)
    app.register_blueprint(docs.bp)
    for blueprint in (health.blp, calendar_feed.bp, twilio_status.bp, fhir_sas.bp):
        # Token-, signature-, certificate- or not-authenticated endpoints outside the page session: no CSRF.
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.before_request(authenticate_api_request)


def register_api_blueprint(module) -> None:
    if not isinstance(module.blp, Blueprint):  # the plain class would parse bodies leniently
        raise TypeError(f"{module.__name__}.blp must be snp_service.api.blueprint.Blueprint")
    csrf.exempt(module.blp)
    api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")


def authenticate_api_request() -> None:
    """Resolve the caller of an API request: a bearer token, or the page session plus a CSRF token."""
    g.api_user = None
    if not request.path.startswith("/api/"):
        return
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("Authorization must be 'Bearer <token>'", code="invalid_token")
        user = user_for_token(secret.strip())
        if user is None:
            raise Unauthorized("Invalid, expired or revoked token", code="invalid_token")
        g.api_user = user
        g.api_token = secret.strip()
    elif session_user.is_authenticated and request.method in _UNSAFE_METHODS:
        # Pages call the API with their session cookie: that needs the CSRF token too.
        csrf.protect()
