"""FHIR answers: resources as ``application/fhir+json``, errors as OperationOutcome (never the API's JSON errors).

Every error under the FHIR base is rendered by ``operation_outcome`` (through ``api.error_formats``), so a 404,
a 405 or a refused certificate reads the same as a malformed search.
"""
from __future__ import annotations

import json

from flask import Response

from ..core.errors import DomainError
from .codes import FHIR_JSON

FHIR_PATH_PREFIX = "/api/v1/fhir"

# OperationOutcome issue codes (http://hl7.org/fhir/issue-type) by HTTP status.
_ISSUE_CODES = {
    400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 409: "conflict",
    413: "too-costly", 415: "not-supported", 422: "business-rule", 429: "throttled", 500: "exception",
    503: "transient",
}

# Service error codes that are issue types themselves, more precise than their status's.
_ISSUE_CODES_OF_ERRORS = {"duplicate"}


class FhirInvalid(DomainError):
    """A request the FHIR interface cannot execute as written (malformed search, unparsable resource): 400."""

    status = 400
    code = "invalid"


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=FHIR_JSON, headers=headers)


def operation_outcome(status: int, message: str, fields: dict | None = None, code: str | None = None) -> dict:
    """The OperationOutcome of an error; ``code`` is the service's own error code (as in the JSON errors)."""
    issue_code = code if code in _ISSUE_CODES_OF_ERRORS else _ISSUE_CODES.get(status, "processing")
    issue = {"severity": "error", "code": issue_code, "diagnostics": message}
    if code:
        issue["details"] = {"text": message, "coding": [{"system": "urn:snp:error-code", "code": code}]}
    paths = sorted(key for key in fields or () if key[:1].isupper() and "." in key)
    if paths:  # FHIRPath locations of the elements at fault in a resource (Practitioner.identifier[0]...)
        issue["expression"] = paths
    return {"resourceType": "OperationOutcome", "issue": [issue]}
