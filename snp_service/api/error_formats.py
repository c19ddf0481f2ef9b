"""The error bodies the service answers, by URL prefix: one registry read by the error handlers
(what is answered) and by the OpenAPI document (what is described), so the two cannot drift.

The API answers ``{"error": {"code", "message", "fields", ...}}`` (SPEC section 4); the FHIR base
answers ``OperationOutcome`` resources as ``application/fhir+json`` (SPEC section 7). A blueprint
mounted under a registered prefix inherits its format, in its answers and in its documentation.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..sas.outcome import FHIR_PATH_PREFIX, operation_outcome


@dataclass(frozen=True)
class ErrorFormat:
    name: str                      # prefix of the OpenAPI response components (``ApiError400``, ``OperationOutcome404``)
    media_type: str
    schema: dict                   # OpenAPI schema of the body
    render: Callable[[int, str, str, dict, dict], dict]  # (status, code, message, fields, extra) -> body
    headers: dict = field(default_factory=dict)  # status -> extra response headers


def _json_error(status: int, code: str, message: str, fields: dict, extra: dict) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields, **extra}}


JSON_ERROR = ErrorFormat("ApiError", "application/json", {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "description": "machine-readable reason, e.g. slot_unavailable"},
            "message": {"type": "string", "description": "human-readable, French for people"},
            "fields": {"type": "object", "additionalProperties": True,
                       "description": "the fields at fault and why (lists of messages, possibly nested)"},
        },
        # Some errors carry more: alternatives (slot_unavailable), lines (history import), clashing_slot_id.
        "additionalProperties": True,
    }},
}, _json_error)

FHIR_ERROR = ErrorFormat("OperationOutcome", "application/fhir+json", {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["severity", "code"],
            "properties": {
                "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
                "code": {"type": "string"},
                "details": {"type": "object"},
                "diagnostics": {"type": "string"},
                "expression": {"type": "array", "items": {"type": "string"}},
            },
        }},
    },
    "description": "FHIR R4 OperationOutcome",
}, lambda status, code, message, fields, extra: operation_outcome(status, message, fields, code=code),
    headers={401: {"WWW-Authenticate": 'Mutual-TLS realm="sas"'}})

# Longest prefix first; anything else under /api/ (and JSON callers of pages) gets JSON_ERROR.
_BY_PREFIX: list[tuple[str, ErrorFormat]] = [(FHIR_PATH_PREFIX, FHIR_ERROR)]


def error_format_for(path: str) -> ErrorFormat:
    for prefix, error_format in _BY_PREFIX:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return error_format
    return JSON_ERROR


def all_formats() -> list[ErrorFormat]:
    return [JSON_ERROR, *{fmt.name: fmt for _prefix, fmt in _BY_PREFIX}.values()]
