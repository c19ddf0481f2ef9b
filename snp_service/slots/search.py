"""Finding free slots for a caller: the regulator's search.

Ordering (SPEC): the patient's own treating doctor first (the seeds' rule: send
the patient back to their doctor when possible), then the earliest start, then
the distance. One statement answers: it reads the commune's centre, keeps the
practitioners of the caller's scope within the radius (a bounding box, then the
haversine distance), probes each one's free slots through
``ix_slot_free_practitioner_start`` and returns the first ``limit`` in order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Float, and_, bindparam, case, func, literal_column, null, or_, select, true

from ..core.database import member_of
from ..core.errors import Invalid
from ..core.extensions import db
from ..core.fast_paths import execute_core
from ..core.timeutil import to_paris, utcnow
from ..models import Commune, Practitioner, Slot, SlotStatus, members_of

DEFAULT_WINDOW = timedelta(hours=48)
DEFAULT_RADIUS_KM = 30.0
DEFAULT_LIMIT = 20
EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180  # km in one degree of latitude
# Alternatives offered with a lost race: a few of the same doctor, a few nearby.
SAME_PRACTITIONER_ALTERNATIVES = 3
NEARBY_ALTERNATIVES = 5
NEARBY_ALTERNATIVES_RADIUS_KM = 20.0
# Later slots, offered when the window holds fewer than LATER_WHEN_FEWER_THAN results: the next ones after it,
# within the radius first, then beyond it up to LATER_MAX_RADIUS_KM; at most LATER_LIMIT of them.
LATER_WHEN_FEWER_THAN = 3
LATER_LIMIT = 5
LATER_HORIZON = timedelta(days=30)
LATER_MAX_RADIUS_KM = 100.0


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
    profession: str | None = None  # None: every profession
    # Only practitioners farther than this from the centre (the later slots beyond the radius).
    beyond_km: float | None = None


def search_free_slots(scope: set[int] | None, params: dict) -> list[dict]:
    """Free slots for ``params`` (the API's query fields), best first."""
    return find(slot_query(scope, params))


def search_with_later(scope: set[int] | None, params: dict) -> dict:
    """The search's answer: ``results``, and ``later`` when they are fewer than ``LATER_WHEN_FEWER_THAN``."""
    query = slot_query(scope, params)
    results = find(query)
    answer = {"results": results}
    if len(results) < LATER_WHEN_FEWER_THAN:
        answer["later"] = later_slots(query)
    return answer


def later_slots(query: SlotQuery) -> list[dict]:
    """The next free slots after the window, earliest first: within the radius, then beyond it up to 100 km.

    Bounded: at most ``LATER_LIMIT`` slots starting within ``LATER_HORIZON`` after the window's end.
    """
    after = replace(query, start=query.end, end=query.end + LATER_HORIZON, limit=LATER_LIMIT)
    found = find(after)
    near = after.centre is not None or after.commune is not None
    if len(found) < LATER_LIMIT and near and after.radius_km < LATER_MAX_RADIUS_KM:
        # The treating doctor's slots came with the first part, whatever the distance.
        found += find(replace(after, radius_km=LATER_MAX_RADIUS_KM, beyond_km=after.radius_km, treating_rpps=None,
                              limit=LATER_LIMIT - len(found)))
    return found


def slot_query(scope: set[int] | None, params: dict) -> SlotQuery:
    now = utcnow()
    start = max(params.get("from") or now, now)
    end = params.get("to") or start + DEFAULT_WINDOW
    if end <= start:
        raise Invalid("La fin de la période doit suivre son début", fields={"to": ["must be after from and now"]})
    centre = (params["lat"], params["lon"]) if params.get("lat") is not None else None
    return SlotQuery(scope=scope, start=start, end=end, centre=centre, commune=None if centre else params.get("commune"),
                     radius_km=params.get("radius_km") or DEFAULT_RADIUS_KM, treating_rpps=params.get("treating_rpps"),
                     mode=params.get("mode"), limit=params.get("limit") or DEFAULT_LIMIT,
                     profession=params.get("profession"))


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

    One statement reads them in that order; the treating doctor's slots come whatever the
    distance (the patient knows the way), the others only within the radius.
    """
    rows = _rows(query, query.limit, practitioner="other" if query.practitioner_id else None)
    if not rows and query.commune is not None:
        _check_commune(query)
    return [_result(row) for row in rows]


# 'free' is written literally (a bound value would not tell the planner that the partial index
# ix_slot_free_practitioner_start applies), and read as a constant: every row read is free, and
# the covering index then answers without reading the table.
_FREE = literal_column(f"'{SlotStatus.FREE}'")
_PRACTITIONER_COLUMNS = (Practitioner.id, Practitioner.rpps, Practitioner.first_name, Practitioner.last_name,
                         Practitioner.address, Practitioner.commune_insee, Practitioner.phone, Practitioner.profession)
_PRACTITIONER_KEYS = ("id", "rpps", "first_name", "last_name", "address", "commune_insee", "phone", "profession")


@lru_cache(maxsize=32)
def _statement(*, scoped: bool, near: str | None, practitioner: str | None, by_mode: bool,
               by_profession: bool = False, beyond: bool = False):
    """The search statement of one shape, built once with bind parameters.

    The search runs on every change of the console's criteria: plain columns (no ORM
    entities) and a prebuilt statement keep the Python around the SQL small. The
    candidate practitioners (scope, distance, treating doctor) are a CTE computed once,
    so the slot index is only probed for a few ids; the earliest slots are chosen
    from the index alone, and only those few are joined to their practitioner. ``near``
    is ``"point"`` (a centre given), ``"commune"`` (the commune's centre, read here) or
    None; ``practitioner`` is ``"only"``, ``"other"`` or None; ``beyond`` keeps only the practitioners
    farther than ``beyond_km``.
    """
    candidates = _candidates(scoped=scoped, near=near, practitioner=practitioner, by_profession=by_profession,
                             beyond=beyond)
    earliest = (
        select(Slot.id, Slot.practitioner_id, Slot.start_at, Slot.end_at, Slot.mode, candidates.c.distance,
               candidates.c.rank)
        .join(candidates, candidates.c.id == Slot.practitioner_id)
        .where(Slot.status == _FREE, Slot.start_at >= bindparam("start"), Slot.start_at < bindparam("end"))
    )
    if by_mode:
        earliest = earliest.where(Slot.mode == bindparam("mode"))
    earliest = (earliest.order_by(candidates.c.rank, Slot.start_at, candidates.c.distance, Slot.id)
                .limit(bindparam("limit")).subquery("earliest"))
    return (
        select(*earliest.c, _FREE.label("status"), *_PRACTITIONER_COLUMNS)
        .join(Practitioner, Practitioner.id == earliest.c.practitioner_id)
        .order_by(earliest.c.rank, earliest.c.start_at, earliest.c.distance, earliest.c.id)
    )


def _candidates(*, scoped: bool, near: str | None, practitioner: str | None, by_profession: bool = False,
                beyond: bool = False):
    """Practitioners whose slots may answer: id, distance to the centre (km) and rank (0: the treating doctor)."""
    treating = Practitioner.rpps == bindparam("rpps")
    rank = case((treating, 0), else_=1)
    if near is None:
        candidates = select(Practitioner.id, null().label("distance"), rank.label("rank"))
    else:
        centre = _centre(scoped=scoped, commune=near == "commune")
        distance = _distance_km(Practitioner.lat, Practitioner.lon, centre.c.lat, centre.c.lon)
        in_box = and_(Practitioner.lat.between(centre.c.lat_min, centre.c.lat_max),
                      Practitioner.lon.between(centre.c.lon_min, centre.c.lon_max))
        # The box first (cheap comparisons), then the exact distance; the treating doctor wherever they are.
        candidates = (select(Practitioner.id, distance.label("distance"), rank.label("rank"))
                      .join(centre, true())
                      .where(or_(and_(in_box, distance <= bindparam("radius_km", type_=Float())), treating)))
        if beyond:
            candidates = candidates.where(distance > bindparam("beyond_km", type_=Float()))
    if by_profession:
        candidates = candidates.where(Practitioner.profession == bindparam("profession"))
    if scoped:
        candidates = candidates.where(member_of(Practitioner.id, members_of(bindparam("scope", expanding=True))))
    if practitioner:
        candidates = candidates.where(_only_or_other(Practitioner.id, bindparam("practitioner_id"), practitioner))
    # Materialized: computed once per practitioner, not again for each of their slots.
    return candidates.cte("candidates").prefix_with("MATERIALIZED")


def _centre(*, scoped: bool, commune: bool):
    """The centre (a commune's, or the one given) and the box around the radius, computed once, not per row."""
    if commune:
        point = _centre_statement(scoped=scoped).subquery()
        lat, lon = point.c.lat, point.c.lon
    else:
        lat, lon = bindparam("lat", type_=Float()), bindparam("lon", type_=Float())
    dlat = bindparam("radius_km", type_=Float()) / KM_PER_DEGREE
    dlon = dlat / func.cos(func.radians(lat), type_=Float())  # a degree of longitude shrinks with latitude
    return select(lat.label("lat"), lon.label("lon"), (lat - dlat).label("lat_min"), (lat + dlat).label("lat_max"),
                  (lon - dlon).label("lon_min"), (lon + dlon).label("lon_max")).cte("centre")


def _distance_km(lat1, lon1, lat2, lon2):
    """Great-circle (haversine) distance in SQL: PostgreSQL and SQLite both have the functions."""
    half_dlat = func.radians(lat2 - lat1) / 2
    half_dlon = func.radians(lon2 - lon1) / 2
    h = (func.power(func.sin(half_dlat), 2)
         + func.cos(func.radians(lat1)) * func.cos(func.radians(lat2)) * func.power(func.sin(half_dlon), 2))
    return (2 * EARTH_RADIUS_KM) * func.asin(func.sqrt(h), type_=Float())


# The distance in SQL, for the slot requests' recipients (one formula for every "within the radius").
distance_km_sql = _distance_km


def _only_or_other(column, value, which: str):
    return column == value if which == "only" else column != value


def _rows(query: SlotQuery, limit: int, *, practitioner: str | None = None) -> list:
    """The answering free slots of the window that have not started, in the caller's scope, best first."""
    params = {"start": max(query.start, utcnow()), "end": query.end, "limit": limit, "scope": sorted(query.scope or ()),
              "rpps": query.treating_rpps, "practitioner_id": query.practitioner_id, "mode": query.mode,
              "radius_km": query.radius_km, "profession": query.profession, "beyond_km": query.beyond_km}
    near = "point" if query.centre is not None else "commune" if query.commune else None
    if near == "point":
        params |= {"lat": query.centre[0], "lon": query.centre[1]}
    elif near == "commune":
        params["insee"] = query.commune
    statement = _statement(scoped=query.scope is not None, near=near, practitioner=practitioner,
                           by_mode=bool(query.mode), by_profession=bool(query.profession),
                           beyond=near is not None and query.beyond_km is not None)
    return execute_core(statement, params).all()


def _result(row) -> dict:
    """One answer as plain JSON, as ``SearchAnswerSchema`` documents it (error bodies and pages use it too)."""
    return {
        "slot": {"id": row[0], "practitioner_id": row.practitioner_id, "start": to_paris(row.start_at).isoformat(),
                 "end": to_paris(row.end_at).isoformat(), "mode": row.mode, "status": row.status},
        "practitioner": dict(zip(_PRACTITIONER_KEYS, row[8:16])),
        "distance_km": None if row.distance is None else round(row.distance, 2),
        "is_treating_doctor": row.rank == 0,
    }


def alternatives(scope: set[int] | None, slot: Slot) -> list[dict]:
    """What to offer when ``slot`` was just taken: the same doctor's next slots, then the nearest ones."""
    now = utcnow()
    practitioner = slot.practitioner
    window = SlotQuery(scope=scope, start=now, end=now + DEFAULT_WINDOW, practitioner_id=practitioner.id)
    rows = _rows(window, SAME_PRACTITIONER_ALTERNATIVES, practitioner="only")
    same = [_result(row) for row in rows]
    centre = (practitioner.lat, practitioner.lon) if practitioner.lat is not None else None
    nearby = find(SlotQuery(scope=scope, start=now, end=now + DEFAULT_WINDOW, centre=centre,
                            radius_km=NEARBY_ALTERNATIVES_RADIUS_KM, limit=NEARBY_ALTERNATIVES,
                            practitioner_id=practitioner.id))
    return same + nearby


def area_communes(scope: set[int] | None) -> list[Commune]:
    """The communes of the caller's CPTS, for the patient's commune field (one per INSEE code)."""
    statement = select(Commune).order_by(Commune.name)
    if scope is not None:
        statement = statement.where(Commune.cpts_id.in_(scope))
    return list({c.insee: c for c in db.session.scalars(statement)}.values())
