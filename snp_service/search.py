"""Finding free slots for a caller: the regulator's search and the shared agenda of an area.

Ordering (SPEC): the patient's own treating doctor first (the seeds' rule: send
the patient back to their doctor when possible), then the earliest start, then
the distance. SQL reads free slots in start order for the practitioners in a
bounding box around the commune (its centre read in the same statement),
probing each one's free slots through ``ix_slot_free_practitioner_start``; the
exact haversine distance is computed in Python on the few rows read.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Float, and_, bindparam, case, func, literal_column, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload

from .database import execute_core
from .errors import Invalid
from .extensions import db
from .models import Booking, Commune, Practitioner, Slot, practitioner_cpts
from .timeutil import paris_day_bounds, to_paris, utcnow

DEFAULT_WINDOW = timedelta(hours=48)
DEFAULT_RADIUS_KM = 30.0
DEFAULT_LIMIT = 20
EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = 111.2
# Alternatives offered with a lost race: a few of the same doctor, a few nearby.
SAME_PRACTITIONER_ALTERNATIVES = 3
NEARBY_ALTERNATIVES = 5
NEARBY_ALTERNATIVES_RADIUS_KM = 20.0


@dataclass(frozen=True)
class SlotQuery:
    scope: set[int] | None  # CPTS ids whose slots may be returned; None: every CPTS
    start: datetime
    end: datetime
    centre: tuple[float, float] | None = None
    commune: str | None = None  # INSEE code: its centre is read by the search statement itself
    radius_km: float = DEFAULT_RADIUS_KM
    treating_rpps: str | None = None
    mode: str | None = None
    limit: int = DEFAULT_LIMIT
    # Only this practitioner's slots (alternatives) or, in the nearby part, everybody else's.
    practitioner_id: int | None = None


def search_free_slots(scope: set[int] | None, params: dict) -> list[dict]:
    """Free slots for ``params`` (the API's query fields), best first."""
    return find(slot_query(scope, params))


def slot_query(scope: set[int] | None, params: dict) -> SlotQuery:
    now = utcnow()
    start = max(params.get("from") or now, now)
    end = params.get("to") or start + DEFAULT_WINDOW
    if end <= start:
        raise Invalid("La fin de la période doit suivre son début", fields={"to": ["must be after from and now"]})
    centre = (params["lat"], params["lon"]) if params.get("lat") is not None else None
    return SlotQuery(scope=scope, start=start, end=end, centre=centre, commune=None if centre else params.get("commune"),
                     radius_km=params.get("radius_km") or DEFAULT_RADIUS_KM, treating_rpps=params.get("treating_rpps"),
                     mode=params.get("mode"), limit=params.get("limit") or DEFAULT_LIMIT)


def _check_commune(query: SlotQuery) -> None:
    """Refuse an unknown INSEE code (the search statement cannot tell it from a commune with no slots)."""
    params = {"insee": query.commune} | ({} if query.scope is None else {"scope": sorted(query.scope)})
    if execute_core(_centre_statement(scoped=query.scope is not None), params).first() is None:
        raise Invalid("Commune inconnue", fields={"commune": ["unknown INSEE code"]})


@lru_cache(maxsize=2)
def _centre_statement(*, scoped: bool):
    # A commune of that code in the caller's scope if there is one, else any (codes are national).
    statement = select(Commune.lat, Commune.lon).where(Commune.insee == bindparam("insee"))
    if scoped:
        in_scope = Commune.cpts_id.in_(bindparam("scope", expanding=True))
        statement = statement.order_by(case((in_scope, 0), else_=1))
    return statement.limit(1)


def find(query: SlotQuery) -> list[dict]:
    """Up to ``query.limit`` results: the treating doctor's slots, then the others by start then distance.

    The first statement reads both (the treating doctor's slots first, whatever the distance:
    the patient knows the way); start-ordered pages of the others follow only while slots
    starting at the same time as the last one kept may still be nearer. Only the rows
    answered are turned into JSON.
    """
    filters = {"practitioner": "other" if query.practitioner_id else None}
    batch = query.limit + 20
    rows = _rows(query, batch, rpps="first" if query.treating_rpps else None, **filters)
    query = _located(query, rows)
    treating = [row for row in rows if _is_treating(row, query)]
    room = query.limit - len(treating)
    found = _nearby(rows[len(treating):], query)
    while room > 0 and len(rows) == batch and not _complete(found, room, rows[-1].start_at):
        rows = _rows(query, batch, rpps="other" if query.treating_rpps else None,
                     after=(rows[-1].start_at, rows[-1][0]), **filters)
        found += _nearby(rows, query)
    found.sort(key=lambda near: (near[0].start_at, near[1] or 0.0, near[0][0]))
    return ([_result(row, _distance(row, query), treating=True) for row in treating[:query.limit]]
            + [_result(row, distance, treating=False) for row, distance in found[:max(room, 0)]])


def _located(query: SlotQuery, rows) -> SlotQuery:
    """The query with the centre of its commune, as the first statement read it."""
    if query.commune is None:
        return query
    if not rows:
        _check_commune(query)
        return query
    return replace(query, centre=(rows[0].centre_lat, rows[0].centre_lon), commune=None)


def _is_treating(row, query: SlotQuery) -> bool:
    return query.treating_rpps is not None and row.rpps == query.treating_rpps


def _nearby(rows, query: SlotQuery) -> list[tuple]:
    """(row, distance) of the rows within the radius (the box's corners are beyond it), in start order."""
    near = ((row, _distance(row, query)) for row in rows)
    if query.centre is None:
        return list(near)
    return [(row, distance) for row, distance in near if distance is not None and distance <= query.radius_km]


# 'free' is written literally (a bound value would not tell the planner that the partial index
# ix_slot_free_practitioner_start applies), and read as a constant: every row read is free, and
# the covering index then answers without reading the table.
_FREE = literal_column("'free'")
_PRACTITIONER_COLUMNS = (Practitioner.id, Practitioner.rpps, Practitioner.first_name, Practitioner.last_name,
                         Practitioner.address, Practitioner.commune_insee, Practitioner.phone)
_PRACTITIONER_KEYS = ("id", "rpps", "first_name", "last_name", "address", "commune_insee", "phone")


@lru_cache(maxsize=128)
def _statement(*, scoped: bool, near: str | None, rpps: str | None, practitioner: str | None, by_mode: bool,
               paged: bool):
    """The search statement of one shape, built once with bind parameters.

    The search runs on every change of the console's criteria: plain columns (no ORM
    entities) and a prebuilt statement keep the Python around the SQL small. The
    practitioner conditions (scope, bounding box, treating doctor) sit in a subquery
    evaluated once, so the slot index is only probed for a small set of ids; the
    earliest slots are chosen from the index alone, and only those few are joined to
    their practitioner. ``near`` is ``"point"`` (a bounding box given), ``"commune"`` (the box
    around the commune's centre, read here: one round trip fewer) or None; ``rpps`` is
    ``"first"`` (the treating doctor's slots first, near or not), ``"other"`` or None;
    ``practitioner`` is ``"only"``, ``"other"`` or None.
    """
    practitioners = select(Practitioner.id)
    if scoped:
        members = select(practitioner_cpts.c.practitioner_id).where(
            practitioner_cpts.c.cpts_id.in_(bindparam("scope", expanding=True)))
        practitioners = practitioners.where(Practitioner.id.in_(members))
    treating = Practitioner.rpps == bindparam("rpps")
    centre = _commune_centre(scoped) if near == "commune" else None
    if near:
        in_box = _in_box(centre)
        if centre is not None:
            practitioners = practitioners.join(centre, true())
        # The treating doctor is in whatever the distance.
        practitioners = practitioners.where(or_(in_box, treating) if rpps == "first" else in_box)
    if rpps == "other":
        practitioners = practitioners.where(Practitioner.rpps != bindparam("rpps"))
    if practitioner:
        practitioners = practitioners.where(_only_or_other(Practitioner.id, bindparam("practitioner_id"), practitioner))
    earliest = (
        select(Slot.id, Slot.practitioner_id, Slot.start_at, Slot.end_at, Slot.mode)
        .where(Slot.status == _FREE, Slot.start_at >= bindparam("start"), Slot.start_at < bindparam("end"),
               Slot.practitioner_id.in_(practitioners))
    )
    if by_mode:
        earliest = earliest.where(Slot.mode == bindparam("mode"))
    if paged:
        after = bindparam("after_start")
        earliest = earliest.where(or_(Slot.start_at > after, and_(Slot.start_at == after,
                                                                   Slot.id > bindparam("after_id"))))
    order = (Slot.start_at, Slot.id)
    if rpps == "first":
        treating_first = case((Slot.practitioner_id.in_(select(Practitioner.id).where(treating)), 0), else_=1)
        earliest = earliest.add_columns(treating_first.label("rank"))
        order = (treating_first, *order)
    earliest = earliest.order_by(*order).limit(bindparam("limit")).subquery("earliest")
    statement = (
        select(*earliest.c[:5], _FREE.label("status"), *_PRACTITIONER_COLUMNS, Practitioner.lat, Practitioner.lon)
        .join(Practitioner, Practitioner.id == earliest.c.practitioner_id)
        .order_by(*earliest.c[5:], earliest.c.start_at, earliest.c.id)
    )
    if centre is not None:
        statement = statement.add_columns(centre.c.lat.label("centre_lat"), centre.c.lon.label("centre_lon"))
        statement = statement.join(centre, true())
    return statement


def _commune_centre(scoped: bool):
    """The commune's centre and the box around it, computed once (not per practitioner row)."""
    commune = _centre_statement(scoped=scoped).subquery()
    dlat = bindparam("dlat", type_=Float())
    dlon = dlat / func.cos(func.radians(commune.c.lat), type_=Float())  # a degree of longitude shrinks with latitude
    return select(commune.c.lat, commune.c.lon, (commune.c.lat - dlat).label("lat_min"),
                  (commune.c.lat + dlat).label("lat_max"), (commune.c.lon - dlon).label("lon_min"),
                  (commune.c.lon + dlon).label("lon_max")).cte("centre")


def _in_box(centre):
    """Practitioners in the box around the centre: a bounding box given, or the commune's read in SQL."""
    if centre is None:
        return and_(Practitioner.lat.between(bindparam("lat_min"), bindparam("lat_max")),
                    Practitioner.lon.between(bindparam("lon_min"), bindparam("lon_max")))
    return and_(Practitioner.lat.between(centre.c.lat_min, centre.c.lat_max),
                Practitioner.lon.between(centre.c.lon_min, centre.c.lon_max))


def _only_or_other(column, value, which: str):
    return column == value if which == "only" else column != value


def _rows(query: SlotQuery, limit: int, *, rpps: str | None = None, practitioner: str | None = None,
          after: tuple[datetime, int] | None = None) -> list:
    """Free slots of the window that have not started, in the caller's scope, by start."""
    params = {"start": max(query.start, utcnow()), "end": query.end, "limit": limit, "scope": sorted(query.scope or ()),
              "rpps": query.treating_rpps, "practitioner_id": query.practitioner_id, "mode": query.mode}
    near = "point" if query.centre is not None else "commune" if query.commune else None
    if near == "point":
        params |= _bounding_box(query.centre, query.radius_km)
    elif near == "commune":
        params |= {"insee": query.commune, "dlat": query.radius_km / KM_PER_DEGREE}
    if after is not None:
        params |= {"after_start": after[0], "after_id": after[1]}
    statement = _statement(scoped=query.scope is not None, near=near, rpps=rpps, practitioner=practitioner,
                           by_mode=bool(query.mode), paged=after is not None)
    return execute_core(statement, params).all()


def _complete(found: list[tuple], room: int, last_read: datetime) -> bool:
    # Slots starting at the same time as the last kept one may still be nearer: read past them.
    return len(found) >= room and found[room - 1][0].start_at < last_read


def _bounding_box(centre: tuple[float, float], radius_km: float) -> dict:
    lat, lon = centre
    dlat = radius_km / KM_PER_DEGREE
    dlon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return {"lat_min": lat - dlat, "lat_max": lat + dlat, "lon_min": lon - dlon, "lon_max": lon + dlon}


def _distance(row, query: SlotQuery) -> float | None:
    if query.centre is None or row.lat is None:
        return None
    return round(haversine_km(query.centre, (row.lat, row.lon)), 2)


def _result(row, distance: float | None, treating: bool) -> dict:
    """One answer as plain JSON, as ``SearchAnswerSchema`` documents it (error bodies and pages use it too)."""
    return {
        "slot": {"id": row[0], "practitioner_id": row.practitioner_id, "start": to_paris(row.start_at).isoformat(),
                 "end": to_paris(row.end_at).isoformat(), "mode": row.mode, "status": row.status},
        "practitioner": dict(zip(_PRACTITIONER_KEYS, row[6:13])),
        "distance_km": distance,
        "is_treating_doctor": treating,
    }


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def alternatives(scope: set[int] | None, slot: Slot) -> list[dict]:
    """What to offer when ``slot`` was just taken: the same doctor's next slots, then the nearest ones."""
    now = utcnow()
    practitioner = slot.practitioner
    window = SlotQuery(scope=scope, start=now, end=now + DEFAULT_WINDOW, practitioner_id=practitioner.id)
    rows = _rows(window, SAME_PRACTITIONER_ALTERNATIVES, practitioner="only")
    same = [_result(row, None, treating=False) for row in rows]
    centre = (practitioner.lat, practitioner.lon) if practitioner.lat is not None else None
    nearby = find(SlotQuery(scope=scope, start=now, end=now + DEFAULT_WINDOW, centre=centre,
                            radius_km=NEARBY_ALTERNATIVES_RADIUS_KM, limit=NEARBY_ALTERNATIVES,
                            practitioner_id=practitioner.id))
    return same + nearby


def chosen_slot(scope: set[int] | None, slot_id: int) -> dict | None:
    """A free slot picked on the shared agenda, as a search result, if it is still free and in scope."""
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        return None
    query = SlotQuery(scope=scope, start=slot.start_at, end=slot.end_at, practitioner_id=slot.practitioner_id)
    rows = [row for row in _rows(query, 1, practitioner="only") if row[0] == slot_id]
    return _result(rows[0], None, treating=False) if rows else None


def area_communes(scope: set[int] | None) -> list[Commune]:
    """The communes of the caller's CPTS, for the patient's commune field (one per INSEE code)."""
    statement = select(Commune).order_by(Commune.name)
    if scope is not None:
        statement = statement.where(Commune.cpts_id.in_(scope))
    return list({c.insee: c for c in db.session.scalars(statement)}.values())


def shared_agenda(scope: set[int] | None, first_day: date, days: int) -> dict:
    """The area's slots over ``days`` Paris days: one column per practitioner, grouped by commune.

    Booked slots carry the patient's initials only: enough for two regulators to
    recognise a booking, too little to identify anybody on a shared screen.
    """
    start, _ = paris_day_bounds(first_day)
    _, end = paris_day_bounds(first_day + timedelta(days=days - 1))
    statement = (
        select(Slot, Booking).join(Slot.practitioner)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == "booked"))
        .options(contains_eager(Slot.practitioner), joinedload(Booking.patient))
        .where(Slot.start_at >= start, Slot.start_at < end)
        .order_by(Practitioner.commune_insee, Practitioner.last_name, Practitioner.id, Slot.start_at)
    )
    if scope is not None:
        members = select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(scope))
        statement = statement.where(Slot.practitioner_id.in_(members))
    columns: OrderedDict[int, dict] = OrderedDict()
    for slot, booking in db.session.execute(statement):
        column = columns.setdefault(slot.practitioner_id, _column(slot.practitioner))
        column["slots"].append(_agenda_slot(slot, booking))
    names = {commune.insee: commune.name for commune in area_communes(scope)}
    return {"from": start.isoformat(), "to": end.isoformat(), "communes": _by_commune(columns.values(), names)}


def _column(practitioner: Practitioner) -> dict:
    return {"practitioner": {"id": practitioner.id, "name": practitioner.display_name,
                             "address": practitioner.address, "commune_insee": practitioner.commune_insee},
            "slots": []}


def _agenda_slot(slot: Slot, booking: Booking | None) -> dict:
    return {"id": slot.id, "start": to_paris(slot.start_at).isoformat(), "end": to_paris(slot.end_at).isoformat(), "mode": slot.mode,
            "status": slot.status, "initials": _initials(booking)}


def _initials(booking: Booking | None) -> str | None:
    patient = booking.patient if booking is not None else None
    if patient is None or not patient.first_name or not patient.last_name:
        return None
    return f"{patient.first_name[0]}{patient.last_name[0]}".upper()


def _by_commune(columns, names: dict[str, str]) -> list[dict]:
    communes: OrderedDict[str | None, list[dict]] = OrderedDict()
    for column in columns:
        communes.setdefault(column["practitioner"]["commune_insee"], []).append(column)
    return [{"insee": insee, "name": names.get(insee, insee or "Commune non renseignée"), "practitioners": cols}
            for insee, cols in communes.items()]
