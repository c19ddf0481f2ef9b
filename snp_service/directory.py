"""The directory of a deployment: CPTS records, their communes, practitioners and memberships."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from . import audit, formatting, policy
from .database import write_transaction
from .errors import Conflict, Invalid, NotFound
from .extensions import db
from .models import INDICATORS, Commune, Cpts, Practitioner, User, practitioner_cpts

_CPTS_FIELDS = ("name", "population", "regulation_area", "aci_signed_on", "aci_missions", "indicator_targets",
                "finess")
_PRACTITIONER_FIELDS = ("rpps", "first_name", "last_name", "profession", "phone", "address", "commune_insee",
                        "postal_code", "lat", "lon", "practice_siret", "practice_finess", "sas_participation")
# What the SAS platform's profiles require of a practice (FrLocationAgregateur, FrPractitionerRoleExerciceAgregateur).
_SAS_REQUIRED = {"address": "l'adresse du cabinet", "postal_code": "le code postal",
                 "commune_insee": "la commune", "practice_id": "le FINESS ou le SIRET du cabinet"}


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


def _cpts_summary(cpts: Cpts) -> dict:
    return {"name": cpts.name, "population": cpts.population, "regulation_area": cpts.regulation_area,
            "communes": [c.insee for c in cpts.communes]}


def create_cpts(actor: User | str, data: dict) -> Cpts:
    policy.check_scope_change(actor, None, data)
    with write_transaction():
        if db.session.scalar(select(Cpts.id).where(Cpts.name == data["name"])) is not None:
            raise Conflict("Une CPTS porte déjà ce nom", code="name_taken", fields={"name": ["already used"]})
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
        if "regulation_area" in data and data["regulation_area"] != cpts.regulation_area:
            # Its own event: a change of who may read whose patients is looked for on its own.
            audit.record(actor, "cpts.scope_change", cpts, before={"regulation_area": cpts.regulation_area},
                         after={"regulation_area": data["regulation_area"]})
        for key in _CPTS_FIELDS:
            if key in data:
                setattr(cpts, key, data[key])
        if "communes" in data:
            cpts.communes = _communes(data["communes"], existing=cpts.communes)
        audit.record(actor, "cpts.update", cpts, before=before, after=_cpts_summary(cpts) | {"changed": sorted(data)})
    return cpts


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


def create_practitioner(actor: User, data: dict) -> Practitioner:
    with write_transaction():
        if db.session.scalar(select(Practitioner.id).where(Practitioner.rpps == data["rpps"])) is not None:
            raise Conflict("Ce RPPS est déjà enregistré", code="rpps_taken", fields={"rpps": ["already registered"]})
        practitioner = Practitioner(**{k: data[k] for k in _PRACTITIONER_FIELDS if k in data})
        practitioner.cpts = [get_cpts(cpts_id) for cpts_id in data["cpts_ids"]]
        _fill_from_commune(practitioner)
        if practitioner.sas_participation:
            check_sas_ready(practitioner)
        db.session.add(practitioner)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict("Ce RPPS est déjà enregistré", code="rpps_taken", fields={"rpps": ["already registered"]})
        audit.record(actor, "practitioner.create", practitioner, after={"rpps": practitioner.rpps, "cpts_ids": data["cpts_ids"]})
    return practitioner


def _fill_from_commune(practitioner: Practitioner) -> None:
    """Without explicit coordinates or postal code, a practice takes its commune's centroid and postal code."""
    if not practitioner.commune_insee:
        return
    commune = commune_by_insee(practitioner.commune_insee)
    if commune is None:
        return
    if practitioner.lat is None:
        practitioner.lat, practitioner.lon = commune.lat, commune.lon
    if practitioner.postal_code is None:
        practitioner.postal_code = commune.postal_code


def check_sas_ready(practitioner: Practitioner) -> None:
    """A practitioner shown to the SAS platform needs what its profiles require of a practice."""
    present = {"address": practitioner.address, "postal_code": practitioner.postal_code,
               "commune_insee": practitioner.commune_insee and commune_by_insee(practitioner.commune_insee),
               "practice_id": practitioner.practice_finess or practitioner.practice_siret}
    missing = [key for key, value in present.items() if not value]
    if missing:
        raise Invalid("Pour apparaître sur la plateforme SAS, il manque " + ", ".join(_SAS_REQUIRED[k] for k in missing)
                      + " : demandez à la coordination de les renseigner",
                      code="sas_incomplete", fields={k: ["required to take part in the SAS platform"] for k in missing})


def set_sas_participation(actor: User, practitioner_id: int, participate: bool) -> Practitioner:
    """The practitioner's own choice to show their free slots to the SAS platform (or to stop)."""
    with write_transaction():
        practitioner = db.session.get(Practitioner, practitioner_id, with_for_update=True)
        if practitioner is None:
            raise NotFound("Praticien introuvable")
        before = {"sas_participation": practitioner.sas_participation}
        if participate:
            check_sas_ready(practitioner)
        practitioner.sas_participation = participate
        audit.record(actor, "practitioner.sas_participation", practitioner, before=before,
                     after={"sas_participation": participate})
    return practitioner


def list_practitioners(cpts_ids: set[int] | None) -> list[Practitioner]:
    query = select(Practitioner).order_by(Practitioner.last_name, Practitioner.first_name)
    if cpts_ids is not None:
        member = select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(cpts_ids))
        query = query.where(Practitioner.id.in_(member))
    return list(db.session.scalars(query))


def practitioner_by_rpps(rpps: str) -> Practitioner | None:
    return db.session.scalar(select(Practitioner).where(Practitioner.rpps == rpps))


def lookup_practitioners(cpts_ids: set[int] | None, query: str, limit: int) -> list[dict]:
    """Practitioners of ``cpts_ids`` whose name (or RPPS) starts like ``query``, best first, at most ``limit``.

    The regulator types what the caller says ("lefevre claire"): case and accents are
    ignored and each word typed must start a word of the name, in any order. SQLite's
    ``lower`` knows only ASCII, so SQL keeps a loose superset (``_loose_pattern``) and the
    exact rule is applied here to those few rows, read as plain columns.
    """
    words = _folded_words(query)
    if not words:
        return []
    statement = select(Practitioner.id, Practitioner.rpps, Practitioner.first_name, Practitioner.last_name,
                       Practitioner.commune_insee)
    if cpts_ids is not None:
        member = select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(cpts_ids))
        statement = statement.where(Practitioner.id.in_(member))
    if query.strip().isdigit():
        statement = statement.where(Practitioner.rpps.startswith(query.strip(), autoescape=True))
        matches = list(db.session.execute(statement.order_by(Practitioner.rpps).limit(limit)))
    else:
        for word in words:
            pattern = _loose_pattern(word)
            statement = statement.where(or_(Practitioner.first_name.ilike(pattern, escape="\\"),
                                            Practitioner.last_name.ilike(pattern, escape="\\")))
        matches = [row for row in db.session.execute(statement) if _name_matches(words, row)]
        # Last name typed first is the usual way ("Lefèvre, Claire"): those come first.
        matches.sort(key=lambda row: (not _folded(row.last_name).startswith(words[0]), _folded(row.last_name),
                                      _folded(row.first_name), row.id))
    names = commune_names(cpts_ids, {row.commune_insee for row in matches[:limit]})
    return [{"id": row.id, "rpps": row.rpps, "first_name": row.first_name, "last_name": row.last_name,
             "commune_name": names.get(row.commune_insee)} for row in matches[:limit]]


def _folded(text: str | None) -> str:
    """Lower case without accents: "Lefèvre" and "LEFEVRE" read alike."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _folded_words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s\-'’.,]+", _folded(text)) if word]


# Letters a name may carry with an accent or a cedilla (é, è, ç, ñ, ï...): any character matches there.
_ACCENTED_IN_NAMES = frozenset("aceinouy")


def _loose_pattern(word: str) -> str:
    """A LIKE pattern matching every name that holds ``word`` (folded) anywhere, and a few more."""
    loose = []
    for char in word:
        if char in _ACCENTED_IN_NAMES or not char.isascii():
            loose.append("_")
        elif char in "%_\\":
            loose.append("\\" + char)
        else:
            loose.append(char)
    return f"%{''.join(loose)}%"


def _name_matches(words: list[str], row) -> bool:
    name_words = _folded_words(f"{row.first_name} {row.last_name}")
    return all(any(name.startswith(word) for name in name_words) for word in words)


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
