"""Free slots published as FHIR R4 bulk data (SMART Scheduling Links).

A public, read-only view for appointment finders: one Location per practice,
one Schedule per practitioner, one Slot per free upcoming slot. Nothing about
patients ever appears here (only free slots are published).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import select

from .extensions import db
from .models import Practitioner, Slot
from .timeutil import PARIS, utcnow

RESOURCE_FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}
PUBLISH_WINDOW = timedelta(days=14)
SNP_SERVICE_TYPE = {"coding": [{"system": "https://snp.example.org/service-type", "code": "snp",
                                "display": "Soins non programmés"}]}


def manifest(base_url: str, now: datetime | None = None) -> dict:
    """The ``$bulk-publish`` manifest pointing at the three NDJSON files."""
    now = now or utcnow()
    return {
        "transactionTime": now.isoformat(),
        "request": f"{base_url}/$bulk-publish",
        "output": [{"type": kind, "url": f"{base_url}/{name}"} for kind, name in RESOURCE_FILES.items()],
        "error": [],
    }


def _free_slots(now: datetime) -> list[Slot]:
    query = (select(Slot).where(Slot.status == "free", Slot.start_at > now, Slot.start_at < now + PUBLISH_WINDOW)
             .order_by(Slot.start_at))
    return list(db.session.scalars(query))


def _publishing_practitioners(now: datetime) -> list[Practitioner]:
    ids = select(Slot.practitioner_id).where(
        Slot.status == "free", Slot.start_at > now, Slot.start_at < now + PUBLISH_WINDOW).distinct()
    return list(db.session.scalars(select(Practitioner).where(Practitioner.id.in_(ids)).order_by(Practitioner.id)))


def _location(practitioner: Practitioner) -> dict:
    resource = {"resourceType": "Location", "id": str(practitioner.id),
                "name": f"Cabinet {practitioner.display_name}",
                "address": {"text": practitioner.address or "", "district": practitioner.commune_insee or "",
                            "country": "FR"}}
    if practitioner.phone:
        resource["telecom"] = [{"system": "phone", "value": practitioner.phone}]
    if practitioner.lat is not None:
        resource["position"] = {"latitude": practitioner.lat, "longitude": practitioner.lon}
    return resource


def _schedule(practitioner: Practitioner) -> dict:
    return {"resourceType": "Schedule", "id": str(practitioner.id), "serviceType": [SNP_SERVICE_TYPE],
            "actor": [{"reference": f"Location/{practitioner.id}"}]}


def _slot(slot: Slot) -> dict:
    return {"resourceType": "Slot", "id": str(slot.id), "schedule": {"reference": f"Schedule/{slot.practitioner_id}"},
            "status": "free", "start": slot.start_at.astimezone(PARIS).isoformat(),
            "end": slot.end_at.astimezone(PARIS).isoformat()}


def resources(kind: str, now: datetime | None = None) -> Iterator[str]:
    """NDJSON lines of one resource type."""
    now = now or utcnow()
    if kind == "Slot":
        items = map(_slot, _free_slots(now))
    else:
        build = _location if kind == "Location" else _schedule
        items = map(build, _publishing_practitioners(now))
    for item in items:
        yield json.dumps(item, ensure_ascii=False) + "\n"
