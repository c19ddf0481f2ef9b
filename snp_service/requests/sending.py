"""Sending a slot request: who receives it, and the request itself with its SMS, in one transaction."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Float, and_, bindparam, select

from .. import audit
from ..bookings import patients
from ..core.database import write_transaction
from ..core.errors import Invalid
from ..core.extensions import db
from ..core.fast_paths import insert_many, insert_row
from ..core.timeutil import utcnow
from ..cpts.record import commune_names
from ..models import (Commune, Patient, Practitioner, Profession, SlotMode, SlotRequest, SlotRequestRecipient,
                      SlotRequestStatus, User, members_of)
from ..notify import events, messages
from ..slots.search import KM_PER_DEGREE, distance_km_sql

MAX_RADIUS_KM = 100.0
# A request asks for a slot soon: its window spans at most this long.
MAX_WINDOW = timedelta(days=7)


def create(actor: User, cpts_id: int, scope: set[int], data: dict) -> SlotRequest:
    """Send a request to the practitioners of ``scope`` who take requests, of the profession, within the radius:
    the nearest ``SLOT_REQUEST_MAX_RECIPIENTS`` of them.

    ``cpts_id`` is the requester's CPTS (the request's owner), ``scope`` the CPTS whose practitioners it may reach
    (the requester's regulation area). Nothing is created when nobody would receive it (422 ``no_recipient``).
    """
    now = utcnow()
    _check(data, now)
    patient = patients.checked_patient(data["patient"])
    centre = _centre(data["commune_insee"], scope)
    profession = data.get("profession") or Profession.GP.value
    radius = float(data["radius_km"])
    cap = current_app.config["SLOT_REQUEST_MAX_RECIPIENTS"]
    with write_transaction():
        # One more than the cap: the audit says when some practitioners within the radius were left out.
        recipients = db.session.execute(_recipients_statement().limit(cap + 1), {
            "scope": sorted(scope), "profession": profession, "lat": centre[0], "lon": centre[1],
            "radius_km": radius}).all()
        capped, recipients = len(recipients) > cap, recipients[:cap]
        if not recipients:
            raise Invalid("Aucun professionnel ne reçoit les demandes de créneau dans ce rayon : élargissez le rayon",
                          code="no_recipient", fields={"radius_km": ["no practitioner taking requests within it"]})
        ttl = timedelta(minutes=current_app.config["SLOT_REQUEST_TTL_MINUTES"])
        new_patient = insert_row(Patient, patient)
        request = insert_row(SlotRequest, {
            "status": SlotRequestStatus.OPEN.value, "cpts_id": cpts_id, "requested_by_id": actor.id,
            "patient_id": new_patient.id, "reason": data.get("reason"), "channel": data["channel"],
            "notify_patient": data.get("notify_patient", True), "profession": profession,
            "mode": data.get("mode") or SlotMode.OFFICE.value, "commune_insee": data["commune_insee"],
            "lat": centre[0], "lon": centre[1], "radius_km": radius, "not_before": data["not_before"],
            "not_after": data["not_after"], "expires_at": min(now + ttl, data["not_after"]), "created_at": now})
        insert_many(SlotRequestRecipient.__table__, [
            {"practitioner_id": row.id, "distance_km": round(row.distance, 2)} for row in recipients],
            same={"request_id": request.id})
        commune = commune_names(scope, {data["commune_insee"]}).get(data["commune_insee"], data["commune_insee"])
        texted = events.slot_request_sent(request.id, [(row.id, row.phone) for row in recipients], commune,
                                          messages.window(max(data["not_before"], now), data["not_after"]))
        audit.record(actor, "slot_request.create", request, after={
            "status": request.status, "recipients": len(recipients), "capped": capped, "sms": texted,
            "profession": profession, "radius_km": radius, "expires_at": request.expires_at.isoformat()})
    request.recipient_count = len(recipients)
    return request


def _check(data: dict, now: datetime) -> None:
    """The window (ahead, ordered, bounded), the profession and the radius; every problem at once."""
    problems: dict[str, list[str]] = {}
    not_before, not_after = data["not_before"], data["not_after"]
    if not_after <= now:
        problems["not_after"] = ["the window is over"]
    elif not_after <= not_before:
        problems["not_after"] = ["must be after not_before"]
    elif not_after - max(not_before, now) > MAX_WINDOW:
        problems["not_after"] = [f"the window spans at most {MAX_WINDOW.days} days"]
    if (data.get("profession") or Profession.GP.value) not in Profession.values():
        problems["profession"] = ["unknown profession"]
    if not 0 < float(data["radius_km"]) <= MAX_RADIUS_KM:
        problems["radius_km"] = [f"between 0 and {MAX_RADIUS_KM:g} km"]
    if problems:
        message = ("La période demandée est déjà passée" if problems.get("not_after") == ["the window is over"]
                   else "Demande invalide : corrigez les champs signalés")
        raise Invalid(message, fields=problems)


def _centre(insee: str, scope: set[int]) -> tuple[float, float]:
    """The patient's commune's centre, one of the scope's communes first (codes are national)."""
    row = db.session.execute(select(Commune.lat, Commune.lon).where(Commune.insee == insee)
                             .order_by(Commune.cpts_id.in_(scope).desc()).limit(1)).first()
    if row is None or row.lat is None:
        raise Invalid("Commune inconnue", fields={"commune_insee": ["unknown INSEE code"]})
    return row.lat, row.lon


@cache
def _recipients_statement():
    """The practitioners of the scope, of the profession, who take requests, within the radius (nearest first)."""
    lat, lon, radius = bindparam("lat", type_=Float()), bindparam("lon", type_=Float()), bindparam("radius_km", type_=Float())
    distance = distance_km_sql(Practitioner.lat, Practitioner.lon, lat, lon).label("distance")
    dlat = radius / KM_PER_DEGREE
    box = and_(Practitioner.lat.between(lat - dlat, lat + dlat),
               # A degree of longitude is at least half a degree of latitude below 60° N: a box wide enough.
               Practitioner.lon.between(lon - 2 * dlat, lon + 2 * dlat))
    return (select(Practitioner.id, Practitioner.phone, distance)
            .where(Practitioner.id.in_(members_of(bindparam("scope", expanding=True))),
                   Practitioner.takes_requests.is_(True), Practitioner.profession == bindparam("profession"),
                   box, distance <= radius)
            .order_by(distance, Practitioner.id))


def recipients_sql(scope: set[int], profession: str, centre: tuple[float, float], radius_km: float) -> str:
    """The recipients' statement with these values as SQL text (the benchmark runs it raw, through the driver)."""
    statement = _recipients_statement().params(scope=sorted(scope), profession=profession, lat=centre[0],
                                               lon=centre[1], radius_km=float(radius_km))
    return str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
