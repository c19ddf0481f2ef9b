"""The CapabilityStatement at ``/metadata``: what this server answers the SAS platform, and nothing more.

It instantiates the package's requirements for an agenda editor (individual practitioners and CPTS) and
for a structure managing regulator accounts. The open SMART Scheduling Links publication lives under the
same base but is not a FHIR REST interaction, so it is not declared here.
"""
from __future__ import annotations

from flask import current_app

from .codes import CAPABILITIES, FHIR_JSON, FHIR_VERSION, PROFILES, fhir_base
from .search import IDENTIFIER_PARAM, MAX_PRACTITIONERS

SOFTWARE_VERSION = "0.1.0"


def capability_statement() -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "publisher": "SNP service",
        "kind": "instance",
        "instantiates": [CAPABILITIES + name for name in (
            "SAS-GestionnaireAgenda-PsIndiv", "SAS-GestionnaireAgenda-CPTS", "SAS-GestionnaireStructure")],
        "software": {"name": "SNP service", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Agenda partagé des soins non programmés des CPTS",
                           "url": fhir_base()},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "implementationGuide": ["https://interop.esante.gouv.fr/ig/fhir/sas"],
        "rest": [{
            "mode": "server",
            "security": {"cors": False, "description": (
                "TLS mutuel : certificat client IGC-Santé vérifié par le proxy, CN et OU de la plateforme SAS "
                f"(configurés : {'oui' if current_app.config.get('SAS_CLIENT_CN') else 'non'}).")},
            "resource": [_slot(), _practitioner()],
        }],
    }


def _slot() -> dict:
    return {
        "type": "Slot",
        "profile": PROFILES["slot"],
        "supportedProfile": [PROFILES["cpts_slot"]],
        "interaction": [{"code": "search-type", "documentation": (
            f"Créneaux libres, non commencés, de 1 à {MAX_PRACTITIONERS} praticiens ; status=free obligatoire.")}],
        "searchInclude": ["Slot:schedule", "Schedule:actor", "Slot:service-type-reference",
                          "HealthcareService:organization"],
        "searchParam": [
            {"name": "start", "definition": "https://interop.esante.gouv.fr/ig/fhir/sas/SearchParameter/slot-sp-start",
             "type": "date", "documentation": "start=ge<dateTime>&start=le<dateTime>, une fois chacun"},
            {"name": "status", "definition": "http://hl7.org/fhir/SearchParameter/Slot-status", "type": "token",
             "documentation": "free uniquement"},
            {"name": IDENTIFIER_PARAM, "definition": "http://hl7.org/fhir/SearchParameter/Practitioner-identifier",
             "type": "token", "documentation": "urn:oid:1.2.250.1.71.4.2.1|8<RPPS>, séparés par des virgules"},
        ],
    }


def _practitioner() -> dict:
    return {
        "type": "Practitioner",
        "profile": PROFILES["regulator"],
        "interaction": [{"code": "create"}, {"code": "update"}],
        "updateCreate": True,
        "conditionalUpdate": True,
        "searchParam": [{"name": "identifier", "definition": "http://hl7.org/fhir/SearchParameter/Practitioner-identifier",
                         "type": "token", "documentation": "Comptes régulateurs (identifiant national ou technique SAS)"}],
    }
