"""The resources of a slot search answer, as the package's profiles shape them.

One practitioner has one practice here, so one PractitionerRole (the practice, its Location contained)
and one Schedule (the FAQ: one Schedule per PractitionerRole) share the practitioner's id. A CPTS is a
HealthcareService providing its care, offered by an Organization named by its FINESS; both take the
CPTS's id. Optional elements we do not know are left out, never sent empty (FAQ, "Eléments vide").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from ..bookings.patients import normalise_phone
from ..core.timeutil import PARIS
from .codes import (
    ACT_CODE, APPOINTMENT_REASON, CATEGORIE_ETABLISSEMENT, CPTS_CATEGORY, FINESS_PREFIX, IDNPS_SYSTEM,
    IDNST_SYSTEM, LOCATION_IDENTIFIER_TYPE, PROFILES, RPPS_PREFIX, SERVICE_TYPE_BY_MODE, SIRET_PREFIX,
    SLOT_SERVICE_TYPE_EXTENSION, SPECIALITE_ORDINALE, SPECIALTY_BY_PROFESSION, TYPE_CRENEAU, V2_0203, coding,
    typed_identifier,
)

LOCATION_ID = "cabinet"
# The parts every Slot shares, built once: a search answers a hundred slots, 3,000 times an hour.
_SNP = [coding(TYPE_CRENEAU, "SNP")]
_SNP_CPTS = [coding(TYPE_CRENEAU, "SNP"), coding(TYPE_CRENEAU, "CPTS")]
_SLOT_META = {"profile": [PROFILES["slot"]], "security": _SNP}
_CPTS_SLOT_META = {"profile": [PROFILES["cpts_slot"]], "security": _SNP_CPTS}
_CONSULTATION = {mode: {"coding": [coding(ACT_CODE, code)]} for mode, code in SERVICE_TYPE_BY_MODE.items()}
_SPECIALTY = {profession: [{"coding": [coding(SPECIALITE_ORDINALE, code)]}]
              for profession, code in SPECIALTY_BY_PROFESSION.items()}
_ROUTINE = {"coding": [coding(APPOINTMENT_REASON, "ROUTINE")]}


@dataclass(frozen=True)
class CptsRef:
    id: int
    name: str
    finess: str


@dataclass(frozen=True)
class Practice:
    """A practitioner and their practice, as the search reads them."""

    id: int
    rpps: str
    first_name: str
    last_name: str
    profession: str
    phone: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    lat: float | None
    lon: float | None
    practice_finess: str | None
    practice_siret: str | None


@dataclass(frozen=True)
class FreeSlot:
    id: int
    start_at: datetime
    end_at: datetime
    mode: str
    practice: Practice
    cpts: tuple[CptsRef, ...]


def instant(moment: datetime) -> str:
    """The guide's format: ``YYYY-MM-DDTHH:MM:SS.000+02:00``, in Europe/Paris time."""
    return moment.astimezone(PARIS).isoformat(timespec="milliseconds")


@lru_cache(maxsize=4096)
def e164(phone: str | None) -> str | None:
    """``+33XXXXXXXXX`` (the FAQ's format), or None when the number cannot be read as a French one."""
    return normalise_phone(phone) if phone else None


def slot(free: FreeSlot, booking_link: str) -> dict:
    """FrSlotAgregateur, or sas-cpts-slot-aggregator when the slot is shown to CPTS (``free.cpts``)."""
    service_type = [_CONSULTATION[free.mode]]
    if free.cpts:
        # FAQ 11: one serviceType 604 per CPTS the slot is shown to, each referencing that CPTS's care.
        service_type += [{
            "extension": [{"url": SLOT_SERVICE_TYPE_EXTENSION,
                           "valueReference": {"reference": f"HealthcareService/{cpts.id}"}}],
            "coding": [coding(CATEGORIE_ETABLISSEMENT, CPTS_CATEGORY)],
        } for cpts in free.cpts]
    resource = {"resourceType": "Slot", "id": str(free.id), "meta": _CPTS_SLOT_META if free.cpts else _SLOT_META,
                "serviceType": service_type}
    specialty = _SPECIALTY.get(free.practice.profession)
    if specialty:
        resource["specialty"] = specialty
    resource.update(appointmentType=_ROUTINE, schedule={"reference": f"Schedule/{free.practice.id}"}, status="free",
                    start=instant(free.start_at), end=instant(free.end_at), comment=booking_link)
    return resource


def schedule(practice: Practice) -> dict:
    return {
        "resourceType": "Schedule",
        "id": str(practice.id),
        "meta": {"profile": [PROFILES["schedule"]]},
        "actor": [{"reference": f"Practitioner/{practice.id}"}, {"reference": f"PractitionerRole/{practice.id}"}],
    }


def practitioner(practice: Practice) -> dict:
    resource = {
        "resourceType": "Practitioner",
        "id": str(practice.id),
        "meta": {"profile": [PROFILES["practitioner"]]},
        "identifier": [typed_identifier(V2_0203, "IDNPS", IDNPS_SYSTEM, RPPS_PREFIX + practice.rpps)],
        "name": [{"family": practice.last_name, "given": [practice.first_name]}],
    }
    phone = e164(practice.phone)
    if phone:
        resource["telecom"] = [{"system": "phone", "value": phone}]
    return resource


def practice_identifier(practice: Practice) -> str:
    """The practice's national structure id, prefixed: FINESS first, else SIRET (the FAQ's order)."""
    if practice.practice_finess:
        return FINESS_PREFIX + practice.practice_finess
    return SIRET_PREFIX + practice.practice_siret


def practitioner_role(practice: Practice, editor_location_system: str) -> dict:
    return {
        "resourceType": "PractitionerRole",
        "id": str(practice.id),
        "meta": {"profile": [PROFILES["practitioner_role"]]},
        "contained": [location(practice, editor_location_system)],
        "practitioner": {"reference": f"Practitioner/{practice.id}"},
        "organization": {"identifier": typed_identifier(V2_0203, "IDNST", IDNST_SYSTEM, practice_identifier(practice))},
        "location": [{"reference": f"#{LOCATION_ID}"}],
    }


def location(practice: Practice, editor_location_system: str) -> dict:
    resource = {
        "resourceType": "Location",
        "id": LOCATION_ID,
        "meta": {"profile": [PROFILES["location"]]},
        "identifier": [typed_identifier(LOCATION_IDENTIFIER_TYPE, "INTRN", editor_location_system, str(practice.id))],
        "address": {"line": [practice.address], "city": practice.city, "postalCode": practice.postal_code},
    }
    if practice.lat is not None and practice.lon is not None:
        resource["position"] = {"longitude": practice.lon, "latitude": practice.lat}
    return resource


def healthcare_service(cpts: CptsRef) -> dict:
    return {
        "resourceType": "HealthcareService",
        "id": str(cpts.id),
        "meta": {"profile": [PROFILES["cpts_healthcare_service"]]},
        "providedBy": {"reference": f"Organization/{cpts.id}"},
    }


def organization(cpts: CptsRef) -> dict:
    return {
        "resourceType": "Organization",
        "id": str(cpts.id),
        "meta": {"profile": [PROFILES["cpts_organization"]]},
        "identifier": [typed_identifier(LOCATION_IDENTIFIER_TYPE, "IDNST", IDNST_SYSTEM, FINESS_PREFIX + cpts.finess)],
        "name": cpts.name,
    }
