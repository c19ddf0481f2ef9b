"""CPTS records: name, population, regulation area, ACI contract, communes."""
from __future__ import annotations

from sqlalchemy import select

from .. import audit, formatting, policy
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..data import communes
from ..models import INDICATORS, Commune, Cpts, Practitioner, User, members_of

_CPTS_FIELDS = ("name", "population", "regulation_area", "aci_signed_on", "aci_missions", "indicator_targets",
                "finess")


# The targets an indicator may be given, in the indicator's own unit (rates are fractions, money is cents).
# A distribution (bookings by channel) has no single target.
TARGET_BOUNDS = {
    "participating_practitioners": (0, 100_000, "count"),
    "offered_slots": (0, 10_000_000, "count"),
    "avg_offered_per_day": (0, 100_000, "count"),
    "fill_rate": (0, 1, "rate"),
    "share_without_treating_doctor": (0, 1, "rate"),
    "no_show_rate": (0, 1, "rate"),
    "regulated_acts": (0, 10_000_000, "count"),
    "supplement_cents": (0, 10_000_000_000, "cents"),
    "patient_cancellations": (0, 10_000_000, "count"),
    "confirmed_share": (0, 1, "rate"),
    "no_show_rate_confirmed": (0, 1, "rate"),
    "no_show_rate_unconfirmed": (0, 1, "rate"),
}
_INDICATOR_LABELS = dict(INDICATORS)


def check_targets(targets: dict) -> None:
    """Refuse a target outside its bounds (a fill rate above 100 %, a negative count), naming each one in French."""
    messages, fields = [], {}
    for code, value in targets.items():
        if code not in TARGET_BOUNDS:
            messages.append(f"« {_INDICATOR_LABELS.get(code, code)} » ne prend pas d'objectif")
            fields[f"indicator_targets.{code}"] = ["not a targetable indicator"]
            continue
        low, high, kind = TARGET_BOUNDS[code]
        if value is not None and not low <= value <= high:
            messages.append(f"« {_INDICATOR_LABELS[code]} » : objectif entre {_bound(low, kind)} et {_bound(high, kind)}")
            fields[f"indicator_targets.{code}"] = [f"between {low} and {high}"]
    if fields:
        raise Invalid("Objectifs refusés : " + " ; ".join(messages), fields=fields, code="target_out_of_range")


def _bound(value, kind: str) -> str:
    return formatting.percent(value, 0) if kind == "rate" else formatting.figure(value, kind)


def get_cpts(cpts_id: int) -> Cpts:
    cpts = db.session.get(Cpts, cpts_id)
    if cpts is None:
        raise NotFound("CPTS introuvable")
    return cpts


def _check_name_free(name: str, cpts_id: int | None = None) -> None:
    """Two CPTS never share a name (a unique column): say so in French rather than let the database refuse."""
    taken = select(Cpts.id).where(Cpts.name == name)
    if cpts_id is not None:
        taken = taken.where(Cpts.id != cpts_id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise Conflict("Une CPTS porte déjà ce nom", code="name_taken", fields={"name": ["already used"]})


def _cpts_summary(cpts: Cpts) -> dict:
    return {"name": cpts.name, "population": cpts.population, "regulation_area": cpts.regulation_area,
            "communes": [c.insee for c in cpts.communes], "finess": cpts.finess,
            "aci_signed_on": cpts.aci_signed_on.isoformat() if cpts.aci_signed_on else None,
            "aci_missions": len(cpts.aci_missions or [])}


def create_cpts(actor: User | str, data: dict) -> Cpts:
    policy.check_scope_change(actor, None, data)
    with write_transaction():
        _check_name_free(data["name"])
        check_targets(data.get("indicator_targets") or {})
        cpts = Cpts(**{k: data[k] for k in _CPTS_FIELDS if k in data})
        cpts.communes = _communes(data.get("communes", []))
        db.session.add(cpts)
        db.session.flush()
        audit.record(actor, "cpts.create", cpts, after=_cpts_summary(cpts))
    return cpts


def update_cpts(actor: User | str, cpts_id: int, data: dict) -> Cpts:
    check_targets(data.get("indicator_targets") or {})
    with write_transaction():
        cpts = get_cpts(cpts_id)
        policy.check_scope_change(actor, cpts, data)
        before = _cpts_summary(cpts)
        if "name" in data:
            _check_name_free(data["name"], cpts.id)
        if "regulation_area" in data and data["regulation_area"] != cpts.regulation_area:
            # Its own event: a change of who may read whose patients is looked for on its own.
            audit.record(actor, "cpts.scope_change", cpts, before={"regulation_area": cpts.regulation_area},
                         after={"regulation_area": data["regulation_area"]})
        for key in _CPTS_FIELDS:
            if key in data:
                setattr(cpts, key, data[key])
        if "communes" in data:
            _check_communes_unused(cpts, {row["insee"] for row in data["communes"]})
            cpts.communes = _communes(data["communes"], existing=cpts.communes)
        audit.record(actor, "cpts.update", cpts, before=before, after=_cpts_summary(cpts) | {"changed": sorted(data)})
    return cpts


def _check_communes_unused(cpts: Cpts, kept: set[str]) -> None:
    """A commune leaves the territory only when no member practises there (their slots are offered there)."""
    removed = {c.insee: c.name for c in cpts.communes if c.insee not in kept}
    if not removed:
        return
    users = list(db.session.execute(
        select(Practitioner.commune_insee, Practitioner.first_name, Practitioner.last_name)
        .where(Practitioner.id.in_(members_of([cpts.id])), Practitioner.commune_insee.in_(sorted(removed)))
        .order_by(Practitioner.last_name)))
    if users:
        listed = ", ".join(f"{first} {last} ({removed[insee]})" for insee, first, last in users)
        raise Conflict(f"Commune utilisée par des membres, qui y publient leurs créneaux : {listed}",
                       code="commune_in_use", fields={"communes": [f"used by {len(users)} member(s)"]})


def territory_commune(insee: str) -> dict:
    """A commune of the national list as the territory stores it (name, centroid, postal code)."""
    commune = communes.get(insee)
    if commune is None or commune.insee != insee:
        raise Invalid("Commune inconnue : choisissez-la dans la liste", code="commune_unknown",
                      fields={"insee": ["not a commune"]})
    return {"insee": commune.insee, "name": commune.name, "lat": commune.lat, "lon": commune.lon,
            "postal_code": next(iter(commune.postal_codes), None)}


def add_commune(actor: User, cpts_id: int, insee: str) -> Cpts:
    cpts = get_cpts(cpts_id)
    rows = [_row(c) for c in cpts.communes]
    if insee in {row["insee"] for row in rows}:
        raise Conflict("Cette commune fait déjà partie du territoire", code="commune_present",
                       fields={"insee": ["already in the territory"]})
    return update_cpts(actor, cpts_id, {"communes": rows + [territory_commune(insee)]})


def remove_commune(actor: User, cpts_id: int, insee: str) -> Cpts:
    cpts = get_cpts(cpts_id)
    return update_cpts(actor, cpts_id, {"communes": [_row(c) for c in cpts.communes if c.insee != insee]})


def _row(commune: Commune) -> dict:
    return {"insee": commune.insee, "name": commune.name, "lat": commune.lat, "lon": commune.lon,
            "postal_code": commune.postal_code}


def _communes(rows: list[dict], existing: list[Commune] = ()) -> list[Commune]:
    by_insee = {c.insee: c for c in existing}
    seen = set()
    communes = []
    for row in rows:
        if row["insee"] in seen:
            raise Invalid("Commune en double", fields={"communes": [f"duplicate INSEE code {row['insee']}"]})
        seen.add(row["insee"])
        commune = by_insee.get(row["insee"]) or Commune(insee=row["insee"])
        commune.name, commune.lat, commune.lon = row["name"], row["lat"], row["lon"]
        commune.postal_code = row.get("postal_code")
        communes.append(commune)
    return communes


def commune_by_insee(insee: str, cpts_ids=None) -> Commune | None:
    query = select(Commune).where(Commune.insee == insee)
    if cpts_ids is not None:
        query = query.where(Commune.cpts_id.in_(cpts_ids))
    return db.session.scalars(query.limit(1)).first()


def commune_names(cpts_ids: set[int] | None, insee_codes: set[str | None]) -> dict[str, str]:
    """Names of these communes, preferring the caller's CPTS' records (INSEE codes are national)."""
    codes = sorted(code for code in insee_codes if code)
    if not codes:
        return {}
    rows = db.session.execute(select(Commune.insee, Commune.name, Commune.cpts_id).where(Commune.insee.in_(codes)))
    names: dict[str, str] = {}
    for insee, name, cpts_id in rows:
        if insee not in names or (cpts_ids is not None and cpts_id in cpts_ids):
            names[insee] = name
    return names
