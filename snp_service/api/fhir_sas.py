"""/api/v1/fhir/metadata, /Slot, /Practitioner: the SAS platform's interface (SPEC section 7).

Only the platform may call ``/Slot`` and ``/Practitioner`` (mutual TLS, ``sas.mtls``); the
CapabilityStatement is public, as a FHIR server's usually is. Answers are ``application/fhir+json``;
errors, wherever they arise under the FHIR base, are OperationOutcome resources (``api.errors``).
"""
from __future__ import annotations

from flask import Blueprint, current_app, request

from ..sas import capability, mtls, regulators, search as slot_search
from ..sas.codes import fhir_base
from ..sas.outcome import FhirInvalid, fhir_response

bp = Blueprint("fhir_sas", __name__, url_prefix="/api/v1/fhir")


@bp.before_request
def only_the_sas_platform():
    if request.endpoint != "fhir_sas.metadata":
        mtls.check_caller(request.environ, request.headers, current_app.config)


@bp.get("/metadata")
def metadata():
    return fhir_response(capability.capability_statement())


@bp.get("/Slot")
def search_slots():
    """INT_R01 / INT_R04: free slots of 1 to 25 practitioners, as a searchset Bundle."""
    self_url = f"{fhir_base()}/Slot?{request.query_string.decode('utf-8', 'replace')}"
    return fhir_response(slot_search.answer(slot_search.parse(request.args, self_url)))


@bp.post("/Practitioner")
def create_regulator():
    """INT_R02 creation. An identifier an active account already holds is refused: 409, OperationOutcome code
    ``duplicate`` (ANS test kit v0.3.0; the platform updates by PUT). Held by a deactivated account only, the
    identifier moves to the new account."""
    resource = _resource()
    user, created = regulators.upsert(regulators.parse(resource), create=True)
    return _regulator_answer(user, resource, created)


@bp.put("/Practitioner")
def update_regulator():
    """INT_R02 conditional update ``?identifier=<system>|<value>``; an unknown identifier creates the account."""
    known_as = regulators.condition(request.args.get("identifier"))
    resource = _resource()
    user, created = regulators.upsert(regulators.parse(resource), known_as)
    return _regulator_answer(user, resource, created)


def _resource():
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:
        body = None
    if body is None:
        raise FhirInvalid("Corps JSON illisible : une ressource FHIR en JSON est attendue", fields={"body": ["JSON"]})
    return body


def _regulator_answer(user, resource: dict, created: bool):
    return fhir_response(regulators.as_resource(user, resource), 201 if created else 200,
                         {"Location": f"{fhir_base()}/Practitioner/{user.id}"})
