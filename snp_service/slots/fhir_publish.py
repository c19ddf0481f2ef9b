"""Free slots published as FHIR R4 bulk data (SMART Scheduling Links, HL7 STU 1).

A public, read-only view for appointment finders: one Location per practice,
one Schedule per practitioner, one Slot per free upcoming slot, of the
practitioners who chose to show their slots beyond their CPTS (``sas_participation``,
the same consent as the SAS platform's). Nothing about patients ever appears here.

Each Slot carries the extensions of the HL7 STU 1 release of SMART Scheduling Links
(``http://hl7.org/fhir/uv/smart-scheduling-links/StructureDefinition/...``, 1.0.0):
``booking-deep-link``, the slot in the regulators' console, and ``booking-phone``,
the number that books it (116 117 by default: SNP slots are booked by regulation).

Incremental updates (``_since``): the manifest then points at files holding only
what changed since that instant: slots updated since (free, or ``busy`` once booked,
withdrawn or started), and the Schedules and Locations they refer to.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Iterator

from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from ..core.extensions import db
from ..core.timeutil import PARIS, utcnow
from ..models import Practitioner, Slot, SlotStatus

RESOURCE_FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}
PUBLISH_WINDOW = timedelta(days=14)
# How long clients may keep the manifest and the files (Cache-Control: max-age): the poll interval we ask for.
MAX_AGE_SECONDS = 60
SMART_EXTENSIONS = "http://hl7.org/fhir/uv/smart-scheduling-links/StructureDefinition/"
SNP_SERVICE_TYPE = {"coding": [{"system": "https://snp.example.org/service-type", "code": "snp",
                                "display": "Soins non programmés"}]}


def manifest(base_url: str, now: datetime | None = None, since: datetime | None = None) -> dict:
    """The ``$bulk-publish`` manifest pointing at the three NDJSON files (incremental ones with ``since``)."""
    now = now or utcnow()
    query = f"?_since={quote(since.isoformat())}" if since else ""
    return {
        "transactionTime": now.isoformat(),
        "request": f"{base_url}/$bulk-publish{query}",
        "output": [{"type": kind, "url": f"{base_url}/{name}{query}"} for kind, name in RESOURCE_FILES.items()],
        "error": [],
    }


def _published(columns, now: datetime, since: datetime | None):
    """Slots in the publication window of practitioners who take part: free and upcoming, or changed since."""
    query = (select(*columns).join(Practitioner, Practitioner.id == Slot.practitioner_id)
             .where(Practitioner.sas_participation.is_(True), Slot.start_at < now + PUBLISH_WINDOW))
    if since is None:
        return query.where(Slot.status == SlotStatus.FREE, Slot.start_at > now)
    return query.where(Slot.updated_at >= since, Slot.start_at > since)


def _slots(now: datetime, since: datetime | None) -> list[Slot]:
    return list(db.session.scalars(_published([Slot], now, since).order_by(Slot.start_at, Slot.id)))


def _practitioners(now: datetime, since: datetime | None) -> list[Practitioner]:
    ids = _published([Slot.practitioner_id], now, since).distinct()
    return list(db.session.scalars(select(Practitioner).where(Practitioner.id.in_(ids)).order_by(Practitioner.id)))


def _location(practitioner: Practitioner) -> dict:
    resource = {"resourceType": "Location", "id": str(practitioner.id),
                "name": f"Cabinet {practitioner.display_name}",
                "address": {"text": practitioner.address or "", "district": practitioner.commune_insee or "",
                            "country": "FR"}}
    if practitioner.postal_code:
        resource["address"]["postalCode"] = practitioner.postal_code
    if practitioner.phone:
        resource["telecom"] = [{"system": "phone", "value": practitioner.phone}]
    if practitioner.lat is not None:
        resource["position"] = {"latitude": practitioner.lat, "longitude": practitioner.lon}
    return resource


def _schedule(practitioner: Practitioner) -> dict:
    return {"resourceType": "Schedule", "id": str(practitioner.id), "serviceType": [SNP_SERVICE_TYPE],
            "actor": [{"reference": f"Location/{practitioner.id}"}]}


def _slot(slot: Slot, now: datetime) -> dict:
    free = slot.status == SlotStatus.FREE and slot.start_at > now
    public_url = current_app.config["PUBLIC_URL"].rstrip("/")
    resource = {"resourceType": "Slot", "id": str(slot.id),
                "schedule": {"reference": f"Schedule/{slot.practitioner_id}"},
                "status": "free" if free else "busy", "start": slot.start_at.astimezone(PARIS).isoformat(),
                "end": slot.end_at.astimezone(PARIS).isoformat()}
    if free:
        resource["extension"] = [
            {"url": SMART_EXTENSIONS + "booking-deep-link", "valueUrl": f"{public_url}/regulation?slot={slot.id}"},
            {"url": SMART_EXTENSIONS + "booking-phone", "valueString": current_app.config["SMART_BOOKING_PHONE"]},
        ]
    return resource


def resources(kind: str, now: datetime | None = None, since: datetime | None = None) -> Iterator[str]:
    """NDJSON lines of one resource type (only what changed after ``since`` when given)."""
    now = now or utcnow()
    if kind == "Slot":
        items = (_slot(slot, now) for slot in _slots(now, since))
    else:
        build = _location if kind == "Location" else _schedule
        items = map(build, _practitioners(now, since))
    for item in items:
        yield json.dumps(item, ensure_ascii=False) + "\n"
