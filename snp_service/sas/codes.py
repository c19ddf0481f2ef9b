"""Systems, OIDs, profile URLs and codes fixed by the ANS guide and its package (``ans.fhir.fr.sas`` 1.1.0).

Profile URLs are exactly those each StructureDefinition declares (the package mixes ``http://sas.fr/fhir``
and ``https://interop.esante.gouv.fr/ig/fhir/sas``).
"""
from __future__ import annotations

from flask import current_app

from ..models import Profession, SlotMode

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

# National identifiers (FAQ: "urn:oid:" prefix; IDNPS = practitioners, IDNST = structures).
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
SAS_TECHNICAL_SYSTEM = "urn:oid:1.2.250.1.213.3.6"
V2_0203 = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
LOCATION_IDENTIFIER_TYPE = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"
# Prefixes of national ids (FAQ): 8 + RPPS for a practitioner; 1 + FINESS, 3 + SIRET for a structure.
RPPS_PREFIX, FINESS_PREFIX, SIRET_PREFIX = "8", "1", "3"

TYPE_CRENEAU = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"
SPECIALITE_ORDINALE = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
# The ValueSet sas-valueset-categorieetablissement's system (the guide's text drops the "/FHIR/TRE-R66..." tail).
CATEGORIE_ETABLISSEMENT = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
CPTS_CATEGORY = "604"
SLOT_SERVICE_TYPE_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
APPOINTMENT_OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"

# Consultation type by slot mode (serviceType, ActEncounterCode): office, home visit, teleconsultation.
SERVICE_TYPE_BY_MODE = {SlotMode.OFFICE: "AMB", SlotMode.HOME_VISIT: "HH", SlotMode.TELECONSULTATION: "VR"}
# SM54: médecine générale, the ordinal speciality of a GP (Slot.specialty); other professions have none in R38.
SPECIALTY_BY_PROFESSION = {Profession.GP: "SM54"}

_SAS = "http://sas.fr/fhir/StructureDefinition/"
_ANS = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
PROFILES = {
    "bundle": _SAS + "BundleAgregateur",
    "slot": _SAS + "FrSlotAgregateur",
    "schedule": _SAS + "FrScheduleAgregateur",
    "practitioner": _SAS + "FrPractitionerAgregateur",
    "practitioner_role": _SAS + "FrPractitionerRoleExerciceAgregateur",
    "location": _SAS + "FrLocationAgregateur",
    "cpts_bundle": _ANS + "sas-cpts-bundle-aggregator",
    "cpts_slot": _ANS + "sas-cpts-slot-aggregator",
    "cpts_healthcare_service": _ANS + "sas-cpts-healthcareservice-aggregator",
    # The guide's CPTS page names sas-sos-organization-aggregator, but HealthcareService.providedBy targets
    # this one, as the package's CPTS example does.
    "cpts_organization": _ANS + "sas-cpts-organization-aggregator",
    "regulator": _ANS + "FrPractitionerRegul",
    "appointment": _SAS + "FrAppointmentSAS",
}
CAPABILITIES = "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/"


def coding(system: str, code: str) -> dict:
    return {"system": system, "code": code}


def typed_identifier(type_system: str, type_code: str, system: str, value: str) -> dict:
    return {"type": {"coding": [coding(type_system, type_code)]}, "system": system, "value": value}


def editor_system(kind: str) -> str:
    """Our own identifier system for ``kind`` (appointment, location, user): a URL of ours, as the guide asks
    of an editor without an OID. ``SAS_EDITOR_SYSTEM`` fixes it, so a change of public URL keeps the ids."""
    base = current_app.config.get("SAS_EDITOR_SYSTEM") or f"{current_app.config['PUBLIC_URL'].rstrip('/')}/sas"
    return f"{base.rstrip('/')}/{kind}"


def fhir_base() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/v1/fhir"
