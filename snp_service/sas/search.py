"""The SAS platform's slot search (INT_R01; INT_R04 with the CPTS includes), answered in one SQL statement.

    GET /Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge<instant>&start=le<instant>
        &schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|8<RPPS>[,...]&status=free
        [&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization]

Matches are the free, not yet started slots starting inside the window of practitioners who take part
(``sas_participation``). The platform waits 7 s at most for 1 to 25 practitioners, 3,000 times an hour at
peak: the practitioners, their slots, their practice's commune and (INT_R04) their CPTS come in one
statement on the free-slot index, whatever the number of practitioners. A request that cannot be
executed (26 identifiers, a malformed instant, no ``status=free``) is a 400; one that matches nothing
(unknown practitioners included) is an empty Bundle with ``total: 0``.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from flask import current_app
from sqlalchemy import and_, bindparam, func, literal_column, select
from werkzeug.datastructures import MultiDict

from ..core.errors import Invalid
from ..core.fast_paths import execute_core
from ..core.timeutil import BOUNDS_TEXT, PARIS, day_in_bounds, utcnow
from ..models import Commune, Cpts, Practitioner, Slot, SlotStatus, practitioner_cpts
from ..ops import metrics
from . import resources
from .codes import IDNPS_SYSTEM, PROFILES, editor_system, fhir_base
from .outcome import FhirInvalid

MAX_PRACTITIONERS = 25
MAX_WINDOW = timedelta(days=31)
IDENTIFIER_PARAM = "schedule.actor:Practitioner.identifier"
BOOKING_LINK_PATH = "/regulation/praticien/{id}"
# FHIR dateTime; the guide's own example omits the offset (Paris time then), and a "+" left unencoded in a
# query string arrives as a space.
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?"
                       r"(Z|[+\- ]\d{2}:\d{2})?)?$")
_RPPS = re.compile(r"^8?(\d{11})$")


@dataclass(frozen=True)
class SlotSearch:
    start_from: datetime  # slots starting at or after
    start_before: datetime  # and strictly before (the end of the ``le`` value's precision)
    rpps: tuple[str, ...]  # the 11-digit RPPS numbers asked for (other identifiers cannot match)
    include_schedule: bool
    include_actors: bool
    include_services: bool
    include_organizations: bool
    self_url: str


def parse(args: MultiDict, self_url: str) -> SlotSearch:
    """The search as the platform wrote it; FhirInvalid (400) when it cannot be executed."""
    statuses = args.getlist("status")
    if statuses != ["free"]:
        raise FhirInvalid("Le paramètre status=free est obligatoire (seuls les créneaux libres sont servis)",
                          fields={"status": ["exactly one, free"]})
    start_from, start_before = _window(args.getlist("start"))
    includes = set(args.getlist("_include")) | set(args.getlist("_include:iterate"))
    return SlotSearch(
        start_from=start_from, start_before=start_before, rpps=_rpps_numbers(args.getlist(IDENTIFIER_PARAM)),
        include_schedule="Slot:schedule" in includes,
        include_actors=any(value.startswith("Schedule:actor") for value in includes),
        include_services="Slot:service-type-reference" in includes,
        include_organizations="HealthcareService:organization" in includes,
        self_url=self_url,
    )


def _window(values: list[str]) -> tuple[datetime, datetime]:
    bounds = {prefix: [v[2:] for v in values if v.startswith(prefix)] for prefix in ("ge", "le")}
    if len(values) != 2 or len(bounds["ge"]) != 1 or len(bounds["le"]) != 1:
        raise FhirInvalid("La fenêtre se donne par start=ge<date>&start=le<date>, une fois chacun",
                          fields={"start": ["one ge and one le"]})
    start_from, _ = _instant(bounds["ge"][0])
    upper, precision = _instant(bounds["le"][0])
    start_before = upper + precision
    if start_before - start_from > MAX_WINDOW:
        raise Invalid(f"La fenêtre de recherche est limitée à {MAX_WINDOW.days} jours", code="window_too_long",
                      fields={"start": [f"at most {MAX_WINDOW.days} days"]})
    return start_from, start_before


def _instant(text: str) -> tuple[datetime, timedelta]:
    """A FHIR dateTime as a UTC instant, with the width of its precision (a date covers its whole day)."""
    match = _DATETIME.match(text.strip())
    if not match:
        raise FhirInvalid(f"Date invalide : {text[:40]!r} (attendu AAAA-MM-JJThh:mm:ss+hh:mm)",
                          fields={"start": ["malformed dateTime"]})
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int(float(fraction) * 1_000_000) if fraction else 0)
    except ValueError:
        raise FhirInvalid(f"Date invalide : {text[:40]!r}", fields={"start": ["no such date or time"]})
    if not day_in_bounds(moment):
        raise FhirInvalid(f"Date hors limites ({BOUNDS_TEXT})", fields={"start": ["out of range"]})
    precision = (timedelta(days=1) if hour is None else timedelta(milliseconds=1) if fraction
                 else timedelta(seconds=1) if second else timedelta(minutes=1))
    if offset is None:
        return moment.replace(tzinfo=PARIS).astimezone(timezone.utc), precision
    if offset == "Z":
        return moment.replace(tzinfo=timezone.utc), precision
    sign = -1 if offset[0] == "-" else 1
    shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return (moment - sign * shift).replace(tzinfo=timezone.utc), precision


def _rpps_numbers(params: list[str]) -> tuple[str, ...]:
    if len(params) != 1:
        raise FhirInvalid(f"Le paramètre {IDENTIFIER_PARAM} est obligatoire, une fois (identifiants séparés "
                          "par des virgules)", fields={IDENTIFIER_PARAM: ["exactly once"]})
    tokens = [token.strip() for token in params[0].split(",")]
    if not 1 <= len(tokens) <= MAX_PRACTITIONERS:
        raise FhirInvalid(f"De 1 à {MAX_PRACTITIONERS} identifiants de praticiens par recherche ({len(tokens)} reçus)",
                          fields={IDENTIFIER_PARAM: [f"1 to {MAX_PRACTITIONERS} identifiers"]})
    numbers = []
    for token in tokens:
        system, bar, value = token.rpartition("|")
        value = value.strip()
        if not value:
            raise FhirInvalid("Identifiant de praticien vide", fields={IDENTIFIER_PARAM: ["empty identifier"]})
        if bar and system.strip() not in ("", IDNPS_SYSTEM):
            continue  # another identification system: nobody of ours
        match = _RPPS.match(value)
        if match:  # 8 + RPPS (the platform's form), or a bare RPPS; an ADELI (0...) is nobody of ours
            numbers.append(match.group(1))
    return tuple(dict.fromkeys(numbers))


def answer(search: SlotSearch, now: datetime | None = None) -> dict:
    """The searchset Bundle of the search (timed: ``snp_sas_search_duration_seconds``)."""
    with metrics.sas_search_timer():
        free_slots = find(search, now or utcnow()) if search.rpps else []
        return bundle(search, free_slots)


def find(search: SlotSearch, now: datetime) -> list[resources.FreeSlot]:
    with_cpts = search.include_services
    rows = execute_core(_statement(with_cpts=with_cpts), {
        "rpps": list(search.rpps), "start_from": search.start_from, "start_before": search.start_before,
        "now": now}).all()
    practices: dict[int, resources.Practice] = {}
    slots: dict[int, tuple] = {}  # slot id -> (row, its CPTS), in start order (one row per CPTS with INT_R04)
    for row in rows:
        if row.practitioner_id not in practices:
            practices[row.practitioner_id] = _practice(row)
        cpts = slots.setdefault(row.id, (row, []))[1]
        if with_cpts and row.cpts_id is not None:
            cpts.append(resources.CptsRef(row.cpts_id, row.cpts_name, row.cpts_finess))
    return [resources.FreeSlot(row.id, row.start_at, row.end_at, row.mode, practices[row.practitioner_id], tuple(cpts))
            for row, cpts in slots.values()]


def _practice(row) -> resources.Practice:
    return resources.Practice(
        row.practitioner_id, row.rpps, row.first_name, row.last_name, row.profession, row.phone, row.address,
        row.postal_code, row.city, row.lat, row.lon, row.practice_finess, row.practice_siret)


@lru_cache(maxsize=2)
def _statement(*, with_cpts: bool):
    # Built once with bind parameters. Plain tables, no ORM: the platform's budget is the service's.
    practitioner, slot = Practitioner.__table__, Slot.__table__
    commune = Commune.__table__
    instant = slot.c.start_at.type
    # A commune may be listed by several CPTS of the deployment: its name once, joined per practitioner (a
    # subquery per slot row cost most of the statement's time).
    cities = select(commune.c.insee, func.min(commune.c.name).label("name")).group_by(commune.c.insee).subquery("city")
    statement = (
        select(slot.c.id, slot.c.start_at, slot.c.end_at, slot.c.mode, practitioner.c.id.label("practitioner_id"),
               practitioner.c.rpps, practitioner.c.first_name, practitioner.c.last_name, practitioner.c.profession,
               practitioner.c.phone, practitioner.c.address, practitioner.c.postal_code, practitioner.c.lat,
               practitioner.c.lon, practitioner.c.practice_finess, practitioner.c.practice_siret,
               cities.c.name.label("city"))
        .select_from(practitioner.join(slot, slot.c.practitioner_id == practitioner.c.id)
                     .outerjoin(cities, cities.c.insee == practitioner.c.commune_insee))
        .where(practitioner.c.rpps.in_(bindparam("rpps", expanding=True)),
               practitioner.c.sas_participation.is_(True),
               # Literal 'free': the partial index ix_slot_free_practitioner_start serves it.
               slot.c.status == literal_column(f"'{SlotStatus.FREE}'"),
               slot.c.start_at >= bindparam("start_from", type_=instant),
               slot.c.start_at < bindparam("start_before", type_=instant),
               slot.c.start_at > bindparam("now", type_=instant))
        .order_by(slot.c.start_at, slot.c.id)
    )
    if not with_cpts:
        return statement
    # The CPTS the practitioner belongs to that the platform can name (a FINESS): a slot is shown to each.
    cpts = Cpts.__table__
    named = (select(practitioner_cpts.c.practitioner_id, cpts.c.id, cpts.c.name, cpts.c.finess)
             .join(cpts, and_(cpts.c.id == practitioner_cpts.c.cpts_id, cpts.c.finess.is_not(None)))
             .subquery("named_cpts"))
    return (statement.add_columns(named.c.id.label("cpts_id"), named.c.name.label("cpts_name"),
                                  named.c.finess.label("cpts_finess"))
            .outerjoin_from(practitioner, named, named.c.practitioner_id == practitioner.c.id)
            .order_by(named.c.id))


def bundle(search: SlotSearch, free_slots: list[resources.FreeSlot]) -> dict:
    """The searchset: each Slot, followed by the resources it brings in that are not in the Bundle yet."""
    base = fhir_base()
    public_url = current_app.config["PUBLIC_URL"].rstrip("/")
    location_system = editor_system("location")
    entries: list[dict] = []
    included: set[str] = set()

    def add(resource_type: str, resource_id: int, build, mode: str = "include") -> None:
        key = f"{resource_type}/{resource_id}"
        if key not in included:  # built once: a practitioner's resources serve all their slots
            included.add(key)
            entries.append({"fullUrl": f"{base}/{key}", "resource": build(), "search": {"mode": mode}})

    for free in free_slots:
        practice = free.practice
        link = public_url + BOOKING_LINK_PATH.format(id=practice.id)
        add("Slot", free.id, lambda: resources.slot(free, link), "match")
        if search.include_schedule:
            add("Schedule", practice.id, lambda: resources.schedule(practice))
        if search.include_actors:
            add("Practitioner", practice.id, lambda: resources.practitioner(practice))
            add("PractitionerRole", practice.id, lambda: resources.practitioner_role(practice, location_system))
        for cpts in free.cpts if search.include_services else ():
            add("HealthcareService", cpts.id, lambda: resources.healthcare_service(cpts))
            if search.include_organizations:
                add("Organization", cpts.id, lambda: resources.organization(cpts))
    # An empty answer cannot be a sas-cpts-bundle-aggregator (it wants 4 entries at least): the FAQ's empty
    # Bundle is a BundleAgregateur.
    cpts_answer = any(free.cpts for free in free_slots)
    result = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [PROFILES["cpts_bundle" if cpts_answer else "bundle"]]},
        "type": "searchset",
        "total": len(free_slots),
        "link": [{"relation": "self", "url": search.self_url}],
    }
    if entries:
        result["entry"] = entries
    return result

