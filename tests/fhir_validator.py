"""Validate FHIR resources against the ANS SAS package's StructureDefinitions (ans.fhir.fr.sas 1.1.0).

    from tests.fhir_validator import validate
    assert validate(bundle) == []                      # each resource against its meta.profile
    assert validate(slot, FR_SLOT) == []               # against one profile (canonical URL or name)

What is checked, from each profile's snapshot: cardinalities (slices included), JSON shape (array or
not), unknown elements, primitive formats, fixed[x] and pattern[x], required bindings to the ValueSets
the package ships (and to the small lists of tests/fhir/codes_outside_package.json: R4, ANS slot types), reference
target types and aggregation, the error-severity invariants (fhirpathpy), and reference consistency
inside a Bundle. What is not checked is said by `report(...).notes`: ValueSets outside the package,
slicings resolved by conformance, invariants fhirpathpy cannot evaluate (`NOT_EVALUATED`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import references
from .fhir.invariants import NOT_EVALUATED
from .fhir.package import Profile, example, load
from .fhir.walker import Run, validate_resource

__all__ = ["NOT_EVALUATED", "Report", "example", "examples", "profile", "profiles_by_url", "report", "validate"]

# The canonical URLs, exactly as the StructureDefinitions declare them (two bases are mixed).
SAS = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
BUNDLE = "http://sas.fr/fhir/StructureDefinition/BundleAgregateur"
SLOT = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"
SCHEDULE = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
PRACTITIONER = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
PRACTITIONER_ROLE = "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
LOCATION = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
APPOINTMENT = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
CPTS_BUNDLE = SAS + "sas-cpts-bundle-aggregator"
CPTS_SLOT = SAS + "sas-cpts-slot-aggregator"
CPTS_HEALTHCARE_SERVICE = SAS + "sas-cpts-healthcareservice-aggregator"
CPTS_ORGANIZATION = SAS + "sas-cpts-organization-aggregator"
SLOT_SERVICE_TYPE_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
PRACTITIONER_REGUL = SAS + "FrPractitionerRegul"


@dataclass(frozen=True)
class Report:
    errors: list[str]
    notes: list[str]  # what was not checked, and why


def profiles_by_url() -> dict[str, Profile]:
    """Every StructureDefinition of the package by canonical URL (`.name`, `.type`, `.title`)."""
    return dict(load().profiles)


def profile(name_or_url: str) -> Profile:
    """A profile by canonical URL or by name (`FrSlotAgregateur`, `BundleAgregateurCPTS`...)."""
    profiles = load().profiles
    if name_or_url in profiles:
        return profiles[name_or_url]
    by_name = {p.name: p for p in profiles.values()} | {p.url.rsplit("/", 1)[1]: p for p in profiles.values()}
    if name_or_url in by_name:
        return by_name[name_or_url]
    raise KeyError(f"no profile {name_or_url!r} in the SAS package; known: {sorted(by_name)}")


def examples() -> dict[str, dict]:
    """The package's examples (package/example/*.json) by file name; each call gives fresh copies."""
    return {name: example(name) for name in load().examples}


def report(resource: dict, profile_url: str | None = None) -> Report:
    run = Run()
    root = resource.get("resourceType", "Resource") if isinstance(resource, dict) else "Resource"
    if profile_url is not None:
        validate_resource(run, resource, root, [profile(profile_url)])
    else:
        known = load().profiles
        declared = ((resource.get("meta") or {}).get("profile") or []) if isinstance(resource, dict) else []
        if not any(url in known for url in declared):
            run.error(root, "declares no profile of the SAS package in meta.profile (pass profile= to name one)")
        validate_resource(run, resource, root, None)
    run.errors.extend(references.check(resource))
    return Report(list(dict.fromkeys(run.errors)), list(run.notes))


def validate(resource: dict, profile: str | None = None) -> list[str]:
    """The errors of `resource` against `profile` (canonical URL or name), else against every profile
    of the package its meta.profile declares; Bundle entries and contained resources are checked
    against their own meta.profile and the profile their slice names. Empty list: valid."""
    return report(resource, profile).errors
