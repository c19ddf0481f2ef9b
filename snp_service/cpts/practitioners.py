"""Practitioners: the members of the CPTS, their practice and its place, their SAS participation, the look-up."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.identifiers import finess_problem, rpps_problem, siret_problem
from ..models import Practitioner, User, members_of
from ..data import communes
from ..directory import search as directory_search
from .record import commune_by_insee, commune_names, get_cpts

_PRACTITIONER_FIELDS = ("rpps", "first_name", "last_name", "profession", "phone", "address", "commune_insee",
                        "postal_code", "lat", "lon", "practice_siret", "practice_finess", "sas_participation",
                        "takes_requests")
# What the SAS platform's profiles require of a practice (FrLocationAgregateur, FrPractitionerRoleExerciceAgregateur).
_SAS_REQUIRED = {"address": "l'adresse du cabinet", "postal_code": "le code postal",
                 "commune_insee": "la commune", "practice_id": "le FINESS ou le SIRET du cabinet"}


def check_typed_identifiers(data: dict) -> None:
    """The identifiers typed by hand, keys included (the directory's own are trusted as they come).

    Every hand-made creation or edit goes through it (the API, the members page): a refusal is a 422
    naming each wrong field, said in French.
    """
    fields = {}
    for key, problem in (("rpps", rpps_problem), ("practice_siret", siret_problem),
                         ("practice_finess", finess_problem)):
        if data.get(key):
            message = problem(data[key])
            if message:
                fields[key] = [message]
    if fields:
        raise Invalid("Identifiant incorrect : " + " ; ".join(m[0] for m in fields.values()), fields=fields,
                      code="identifier_invalid")


def create_practitioner(actor: User, data: dict) -> Practitioner:
    """A member typed by hand: its identifiers are checked first."""
    check_typed_identifiers(data)
    return _create(actor, data)


def _create(actor: User, data: dict) -> Practitioner:
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


def create_from_directory(actor: User, data: dict) -> Practitioner:
    """A member made from their national directory entry (``directory_rpps``); fields given in ``data`` win."""
    given = {k: v for k, v in data.items() if k in _PRACTITIONER_FIELDS and k != "rpps"}
    check_typed_identifiers(given)  # what the directory gives is trusted as it comes; what was typed is not
    record = directory_record(data["directory_rpps"], set(data["cpts_ids"]))
    return _create(actor, record | given | {"cpts_ids": data["cpts_ids"]})


def directory_record(rpps: str, cpts_ids: set[int]) -> dict:
    """A member's fields as the national directory gives them (the practice in the CPTS's territory first)."""
    entries = directory_search.entries_of(rpps)
    if not entries:
        raise Invalid("Ce RPPS n'est pas dans l'annuaire chargé", code="not_in_directory",
                      fields={"directory_rpps": ["not in the national directory"]})
    territory = directory_search.departements_of(cpts_ids) or set()
    entry = next((e for e in entries if e["departement"] in territory), entries[0])
    if entry["profession"] is None:
        raise Invalid(f"Profession non prise en charge ({entry['specialty_label'] or 'médecin spécialiste'})",
                      code="profession_unknown", fields={"directory_rpps": ["profession not handled"]})
    return {"rpps": entry["rpps"], "first_name": entry["first_name"], "last_name": entry["last_name"],
            "profession": entry["profession"], "phone": directory_phone(entry["phone"]),
            "address": entry["address"], "postal_code": entry["postal_code"],
            # An arrondissement's or a former commune's code: the commune it belongs to.
            "commune_insee": _commune_code(entry["commune_insee"]), "practice_siret": entry["practice_siret"],
            "practice_finess": entry["practice_finess"]}


def _commune_code(code: str | None) -> str | None:
    commune = communes.get(code) if code else None
    return commune.insee if commune else code


def directory_phone(phone: str | None) -> str | None:
    """A French number as the directory writes it (0251000101) in E.164 (+33251000101)."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        return "+33" + digits[1:]
    return None


def _fill_from_commune(practitioner: Practitioner) -> None:
    """Without explicit coordinates or postal code, a practice takes its commune's centroid and postal code."""
    if not practitioner.commune_insee:
        return
    commune = commune_by_insee(practitioner.commune_insee)
    # Else the national list's (a practice in a commune next to the territory).
    national = communes.get(practitioner.commune_insee) if commune is None else None
    if commune is None and national is None:
        return
    if practitioner.lat is None:
        practitioner.lat, practitioner.lon = (commune or national).lat, (commune or national).lon
    if practitioner.postal_code is None:
        practitioner.postal_code = commune.postal_code if commune else next(iter(national.postal_codes), None)


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


def set_takes_requests(actor: User, practitioner_id: int, takes: bool) -> Practitioner:
    """The practitioner's own choice to receive the regulators' slot requests (or to stop)."""
    with write_transaction():
        practitioner = db.session.get(Practitioner, practitioner_id, with_for_update=True)
        if practitioner is None:
            raise NotFound("Praticien introuvable")
        before = {"takes_requests": practitioner.takes_requests}
        practitioner.takes_requests = takes
        audit.record(actor, "practitioner.takes_requests", practitioner, before=before, after={"takes_requests": takes})
    return practitioner


def list_practitioners(cpts_ids: set[int] | None) -> list[Practitioner]:
    query = select(Practitioner).order_by(Practitioner.last_name, Practitioner.first_name)
    if cpts_ids is not None:
        query = query.where(Practitioner.id.in_(members_of(cpts_ids)))
    return list(db.session.scalars(query))


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
        statement = statement.where(Practitioner.id.in_(members_of(cpts_ids)))
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
    found = [{"id": row.id, "rpps": row.rpps, "first_name": row.first_name, "last_name": row.last_name,
              "commune_name": names.get(row.commune_insee), "member": True} for row in matches[:limit]]
    return found + _directory_doctors(cpts_ids, query, limit - len(found), {row.rpps for row in matches})


def _directory_doctors(cpts_ids: set[int] | None, query: str, limit: int, members: set[str]) -> list[dict]:
    """Médecins of the national directory in the départements of ``cpts_ids``, after the members.

    Many callers' treating doctors are not members: the regulator finds them by name all the same,
    and the RPPS is filled from the directory. One line per professional (the directory has one per
    practice), members left out (they came first).
    """
    if limit <= 0:
        return []
    found, seen = [], set(members)
    for entry in directory_search.search_directory(query, departements=directory_search.departements_of(cpts_ids),
                                                   doctors_only=True, by_commune=False,
                                                   limit=min(limit * 2, 50)):
        if entry["rpps"] in seen:
            continue
        seen.add(entry["rpps"])
        found.append({"id": None, "rpps": entry["rpps"], "first_name": entry["first_name"],
                      "last_name": entry["last_name"], "commune_name": entry["commune_name"], "member": False})
        if len(found) >= limit:
            break
    return found


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
