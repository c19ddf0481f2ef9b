"""Helpers of the SAS platform tests: a platform-shaped caller, practitioners who take part, its search URLs."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from snp_service.core.timeutil import PARIS

from .factories import World
from .fhir_validator import BUNDLE, validate

SAS_CN, SAS_OU = "sas-platform.test", "Plateforme SAS"
# What nginx passes after verifying the platform's certificate (sas-mtls.conf).
SAS_HEADERS = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": f"CN={SAS_CN},OU={SAS_OU},O=ANS,C=FR"}
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
CPTS_INCLUDES = "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"


def configure(app, **overrides) -> None:
    app.config.update({"SAS_CLIENT_CN": SAS_CN, "SAS_CLIENT_OU": SAS_OU, **overrides})


def take_part(practitioner, *, siret: str | None = "12345678900012", finess: str | None = None,
              postal_code: str = "85800", participate: bool = True):
    """Give a practitioner what the SAS profiles need, and their consent."""
    practitioner.practice_siret, practitioner.practice_finess = siret, finess
    practitioner.postal_code, practitioner.sas_participation = postal_code, participate
    World.save_changes()  # a commit, or a flush inside a World.batch()
    return practitioner


def fhir_instant(moment: datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="milliseconds")


def search_url(rpps: list[str], start: datetime | str, end: datetime | str, *, cpts: bool = False,
               status: str | None = "free", encode_plus: bool = True) -> str:
    """Exactly SPEC section 7's query string (INT_R01, or INT_R04 with ``cpts``)."""
    ge = start if isinstance(start, str) else fhir_instant(start)
    le = end if isinstance(end, str) else fhir_instant(end)
    if encode_plus:
        ge, le = quote(ge, safe=":-."), quote(le, safe=":-.")
    identifiers = ",".join(f"{IDNPS}|8{number}" for number in rpps)
    url = (f"/api/v1/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge{ge}&start=le{le}"
           f"&schedule.actor:Practitioner.identifier={identifiers}")
    if status is not None:
        url += f"&status={status}"
    return url + (CPTS_INCLUDES if cpts else "")


def entries(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == resource_type]


def by_reference(bundle: dict) -> dict[str, dict]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in bundle.get("entry", [])}


def assert_conforms(resource: dict, profile: str | None = None) -> dict:
    """The resource passes the package's validator (each entry against its meta.profile); returns it."""
    errors = validate(resource, profile)
    assert errors == [], "\n".join(errors[:20])
    return resource


def assert_conforming_bundle(bundle: dict) -> dict:
    """A search answer conforms; an empty one to BundleAgregateur, as the FAQ's empty Bundle (a CPTS Bundle
    wants four entries at least)."""
    return assert_conforms(bundle, BUNDLE if "entry" not in bundle else None)


# R4 issue-type codes (http://hl7.org/fhir/R4/valueset-issue-type.html): no SAS profile for OperationOutcome,
# so its required binding is checked here.
ISSUE_TYPES = {"invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
               "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches",
               "not-found", "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule",
               "conflict", "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled",
               "informational"}


def assert_operation_outcome(body: dict) -> dict:
    """An R4 OperationOutcome: issue 1..*, each with severity and code from their required ValueSets."""
    assert body["resourceType"] == "OperationOutcome" and body["issue"], body
    for issue in body["issue"]:
        assert issue["severity"] in ("fatal", "error", "warning", "information") and issue["code"] in ISSUE_TYPES
        assert isinstance(issue.get("diagnostics", ""), str)
    assert set(body) <= {"resourceType", "id", "meta", "text", "issue"}
    return body
