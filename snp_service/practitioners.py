"""Practitioners: the members of the CPTS, their practice and its place."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import audit
from .cpts import commune_by_insee, get_cpts
from .database import write_transaction
from .errors import Conflict
from .extensions import db
from .models import Practitioner, User, members_of

_PRACTITIONER_FIELDS = ("rpps", "first_name", "last_name", "profession", "phone", "address", "commune_insee", "lat", "lon")


def create_practitioner(actor: User, data: dict) -> Practitioner:
    with write_transaction():
        if db.session.scalar(select(Practitioner.id).where(Practitioner.rpps == data["rpps"])) is not None:
            raise Conflict("Ce RPPS est déjà enregistré", code="rpps_taken", fields={"rpps": ["already registered"]})
        practitioner = Practitioner(**{k: data[k] for k in _PRACTITIONER_FIELDS if k in data})
        practitioner.cpts = [get_cpts(cpts_id) for cpts_id in data["cpts_ids"]]
        _fill_coordinates(practitioner)
        db.session.add(practitioner)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict("Ce RPPS est déjà enregistré", code="rpps_taken", fields={"rpps": ["already registered"]})
        audit.record(actor, "practitioner.create", practitioner, after={"rpps": practitioner.rpps, "cpts_ids": data["cpts_ids"]})
    return practitioner


def _fill_coordinates(practitioner: Practitioner) -> None:
    """Without explicit coordinates, a practice is placed at its commune's centroid."""
    if practitioner.lat is not None or not practitioner.commune_insee:
        return
    commune = commune_by_insee(practitioner.commune_insee)
    if commune is not None:
        practitioner.lat, practitioner.lon = commune.lat, commune.lon


def list_practitioners(cpts_ids: set[int] | None) -> list[Practitioner]:
    query = select(Practitioner).order_by(Practitioner.last_name, Practitioner.first_name)
    if cpts_ids is not None:
        query = query.where(Practitioner.id.in_(members_of(cpts_ids)))
    return list(db.session.scalars(query))


def practitioner_by_rpps(rpps: str) -> Practitioner | None:
    return db.session.scalar(select(Practitioner).where(Practitioner.rpps == rpps))
