"""The OpenAPI document tells the truth about errors: for every operation, each error status it can
answer, with the body the error handlers really send (``error_formats``, chosen by the URL prefix).

An apispec plugin completes each operation as flask-smorest registers it, from what the view says
about itself: ``require_roles`` (401, 403), ``documented_errors`` for the rest (the sign-in's 429);
every operation may also answer 400 (input refused at the edge), 404 and 503 (database unreachable). New blueprints inherit all of it without a line of documentation.
"""
from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin

from .error_formats import all_formats, error_format_for

# Statuses any operation may answer: bad input refused before the view, an unknown path id, no database.
_ALWAYS = {400, 404, 503}
_WRITES = {"post", "put", "patch", "delete"}


def documented_errors(*statuses: int):
    """Decorator: error statuses a view answers beyond those ``ErrorResponsesPlugin`` infers."""
    def decorator(view):
        view.snp_error_statuses = set(getattr(view, "snp_error_statuses", ())) | set(statuses)
        return view
    return decorator


def response_name(error_format, status: int) -> str:
    return f"{error_format.name}{status}"


class ErrorResponsesPlugin(BasePlugin):
    def __init__(self, app):
        self.app = app
        self.spec = None

    def init_spec(self, spec):
        self.spec = spec
        for error_format in all_formats():
            spec.components.schema(error_format.name, error_format.schema)
            for status in sorted(_ALWAYS | {401, 403, 405, 409, 413, 415, 422, 429}):
                spec.components.response(response_name(error_format, status), {
                    "description": HTTPStatus(status).phrase,
                    "content": {error_format.media_type: {"schema": {"$ref": f"#/components/schemas/{error_format.name}"}}},
                    **({"headers": {"Retry-After": {"schema": {"type": "integer"},
                                                    "description": "seconds before trying again"}}}
                       if status in (429, 503) else {}),
                })

        for error_format in all_formats():
            spec.components.response(f"{error_format.name}Default", {
                "description": "Error",
                "content": {error_format.media_type: {"schema": {"$ref": f"#/components/schemas/{error_format.name}"}}},
            })

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        error_format = error_format_for(rule.rule if rule is not None else path)
        roles = getattr(view, "snp_roles", None)
        for method, operation in operations.items():
            statuses = set(_ALWAYS) | set(getattr(view, "snp_error_statuses", ()))
            if roles is not None:
                statuses |= {401, 403}
            else:
                operation["security"] = []  # public: no bearer token asked
            if method in _WRITES:
                statuses |= {409, 413, 415}
            if operation.get("parameters") or operation.get("requestBody") or method in _WRITES:
                statuses.add(422)
            responses = operation.setdefault("responses", {})
            for code in [code for code in responses if str(code) == "default" or int(str(code)) >= 400]:
                del responses[code]  # flask-smorest's, in its own error format
            for status in sorted(statuses):
                responses[str(status)] = {"$ref": f"#/components/responses/{response_name(error_format, status)}"}
            responses["default"] = {"$ref": f"#/components/responses/{error_format.name}Default"}
