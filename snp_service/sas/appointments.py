"""The FrAppointmentSAS we send the SAS platform for a booking (INT_R03).

No patient data: the platform gets the appointment's times and status, the practitioner's RPPS and
the regulator who took it (the ``FrAppointmentOperator`` extension), named by the identifier the
platform gave the account (INT_R02), national first. A regulator the platform does not know (one of
our own 116 117 regulators) is named by our internal id, typed INTRN, in our own system.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..core.extensions import db
from ..models import SasRegulatorIdentifier
from .codes import (
    APPOINTMENT_OPERATOR_EXTENSION, IDNPS_SYSTEM, PROFILES, RPPS_PREFIX, SAS_TECHNICAL_SYSTEM, V2_0203,
    editor_system, typed_identifier,
)
from .resources import instant

# Our booking events and the AppointmentStatus the platform reads (booked, fulfilled, noshow, cancelled).
STATUS_BY_EVENT = {"booked": "booked", "moved": "booked", "cancelled": "cancelled", "honored": "fulfilled",
                   "no_show": "noshow"}
_PREFERENCE = {IDNPS_SYSTEM: 0, SAS_TECHNICAL_SYSTEM: 1}


def appointment(identifier: str, event: str, start_at: datetime, end_at: datetime, rpps: str,
                regulator_id: int | None) -> dict:
    return {
        "resourceType": "Appointment",
        "meta": {"profile": [PROFILES["appointment"]]},
        "extension": [{"url": APPOINTMENT_OPERATOR_EXTENSION,
                       "valueReference": {"identifier": operator_identifier(regulator_id)}}],
        "identifier": [{"system": editor_system("appointment"), "value": identifier}],
        "status": STATUS_BY_EVENT[event],
        "start": instant(start_at),
        "end": instant(end_at),
        "participant": [{"actor": {"identifier": typed_identifier(V2_0203, "IDNPS", IDNPS_SYSTEM, RPPS_PREFIX + rpps)},
                         "status": "accepted"}],
    }


def operator_identifier(regulator_id: int | None) -> dict:
    known = []
    if regulator_id is not None:
        known = db.session.scalars(select(SasRegulatorIdentifier)
                                   .where(SasRegulatorIdentifier.user_id == regulator_id)).all()
    if known:
        best = min(known, key=lambda i: (_PREFERENCE.get(i.system, 2), i.id))
        return typed_identifier(V2_0203, best.type_code, best.system, best.value)
    return typed_identifier(V2_0203, "INTRN", editor_system("user"), str(regulator_id or 0))


def query_identifier(body: dict) -> str:
    """``<system>|<value>`` of the conditional update of this appointment."""
    identifier = body["identifier"][0]
    return f"{identifier['system']}|{identifier['value']}"
