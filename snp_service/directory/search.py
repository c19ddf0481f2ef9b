"""Reading the directory: the current load only (``current_generation``), never a load under way."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..core.extensions import db
from ..data import communes
from ..models import Commune, DirectoryEntry, DirectoryLoad, DirectoryLoadStatus, DirectoryNameWord
from .extract import DOCTOR, departement_of_code, profession_of

MAX_RESULTS = 50
_COLUMNS = (DirectoryEntry.id, DirectoryEntry.rpps, DirectoryEntry.last_name, DirectoryEntry.first_name,
            DirectoryEntry.profession_code, DirectoryEntry.specialty_code, DirectoryEntry.specialty_label,
            DirectoryEntry.practice_siret, DirectoryEntry.practice_finess, DirectoryEntry.address,
            DirectoryEntry.postal_code, DirectoryEntry.commune_insee, DirectoryEntry.commune_name,
            DirectoryEntry.phone, DirectoryEntry.departement)


def current_generation():
    """The current load's generation, as a scalar subquery: each reading statement sees one load whole."""
    return (select(DirectoryLoad.id).where(DirectoryLoad.status == DirectoryLoadStatus.CURRENT.value)
            .order_by(DirectoryLoad.id.desc()).limit(1).scalar_subquery())


def current_load() -> DirectoryLoad | None:
    return db.session.scalars(select(DirectoryLoad).where(DirectoryLoad.status == DirectoryLoadStatus.CURRENT.value)
                              .order_by(DirectoryLoad.id.desc()).limit(1)).first()


def entries_of(rpps: str) -> list[dict]:
    """Every activity of the professional with this RPPS in the current load."""
    statement = select(*_COLUMNS).where(DirectoryEntry.generation == current_generation(),
                                        DirectoryEntry.rpps == rpps).order_by(DirectoryEntry.id)
    return [_entry(row) for row in db.session.execute(statement)]


def search_directory(text: str, *, departements: set[str] | None = None, professions: set[str] | None = None,
                     doctors_only: bool = False, by_commune: bool = True, limit: int = 10) -> list[dict]:
    """Entries for what a person types: an RPPS's start, a commune (name, INSEE or postal code) or a name.

    A name: each word typed starts a word of the last or first name, in any order, accents and case
    ignored ("lebreton yann", "Yann Le Breton", "fontaine" for De La Fontaine). SQL narrows on the first
    word through the folded name columns' and the name words' indexes (a range, which every database serves from a B-tree); the rest is checked
    here on those few rows. ``departements``, ``professions`` (the service's codes) and ``doctors_only``
    (every médecin, whatever the specialty: a treating doctor) narrow further.
    """
    limit = max(1, min(int(limit), MAX_RESULTS))
    text = (text or "").strip()[:100]
    if not text:
        return []
    statement = select(*_COLUMNS).where(DirectoryEntry.generation == current_generation())
    if departements is not None:
        statement = statement.where(DirectoryEntry.departement.in_(sorted(departements) or [""]))
    if doctors_only:
        statement = statement.where(DirectoryEntry.profession_code == DOCTOR)
    words = communes.normalise(text).split()
    if text.isdigit() and len(text) > 5:
        statement = statement.where(DirectoryEntry.rpps.startswith(text, autoescape=True))
        rows = db.session.execute(statement.order_by(DirectoryEntry.rpps).limit(limit * 4))
        return _kept(rows, professions, limit)
    if text.isdigit() or (len(text) == 5 and text[:2].isdigit()):
        # An INSEE code or a postal code (they overlap: 85300 is Challans's postal code and no INSEE code).
        commune = communes.get(text)
        codes = {commune.insee} if commune else set()
        codes |= {c.insee for c in communes.by_postal_code(text)}
        statement = statement.where(or_(DirectoryEntry.commune_insee.in_(sorted(codes) or [""]),
                                        DirectoryEntry.postal_code == text))
        rows = db.session.execute(statement.order_by(DirectoryEntry.last_name_key, DirectoryEntry.first_name_key)
                                  .limit(limit * 4))
        return _kept(rows, professions, limit)
    if not words:
        return []
    found = _by_name(statement, words, professions, limit)
    if by_commune and len(found) < limit and len(words) == 1 or by_commune and not found:
        # A commune's name ("challans"): its professionals come after the names.
        places = communes.search(text, limit=3)
        if places:
            in_commune = statement.where(DirectoryEntry.commune_insee.in_([c.insee for c in places]))
            seen = {entry["id"] for entry in found}
            more = [row for row in db.session.execute(
                in_commune.order_by(DirectoryEntry.last_name_key).limit(limit * 4)) if row.id not in seen]
            found += _kept(more, professions, limit - len(found))
    return found[:limit]


def _by_name(statement, words: list[str], professions: set[str] | None, limit: int) -> list[dict]:
    """Last names starting with the first word typed first (the usual way: "Lefèvre Claire"), then the later
    part of compound last names ("lebrun" for Fèvre-Lebrun), then first names, then any other word of a name
    ("fontaine" for De La Fontaine, "pierre" for Jean-Pierre: ``DirectoryNameWord``); each step reads a few
    rows, in order, from folded-name indexes (no scan: a département holds tens of thousands of rows)."""
    first = words[0]
    # Keys hold only a-z, digits and spaces, compared byte by byte (collation "C" on PostgreSQL).
    upper = first[:-1] + chr(ord(first[-1]) + 1)
    order = (DirectoryEntry.last_name_key, DirectoryEntry.first_name_key)
    found, seen = [], set()
    for narrowed, key in _name_steps(statement, first, upper, limit):
        rows = db.session.execute(narrowed.add_columns(*order).order_by(key, DirectoryEntry.id).limit(limit * 10))
        rows = [row for row in rows if row.id not in seen and _name_matches(words, row)]
        rows.sort(key=lambda row: (row.last_name_key, row.first_name_key))
        seen.update(row.id for row in rows)
        found += _kept(rows, professions, limit - len(found))
        if len(found) >= limit:
            break
    return found


def _name_steps(statement, first: str, upper: str, limit: int):
    """Each step's statement and the key it reads in order, made only when the previous ones found too few."""
    for key in (DirectoryEntry.last_name_key, DirectoryEntry.later_name_key, DirectoryEntry.first_name_key):
        yield statement.where(key >= first, key < upper), key
    # Lastly a later word of a name ("fontaine" for De La Fontaine): the RPPS holding it (one range read), then
    # their entries through the RPPS index. Two statements: given a subquery, SQLite walks the whole load in
    # name order instead.
    rpps = db.session.scalars(select(DirectoryNameWord.rpps).where(
        DirectoryNameWord.generation == current_generation(), DirectoryNameWord.word_key >= first,
        DirectoryNameWord.word_key < upper).order_by(DirectoryNameWord.word_key).limit(limit * 10)).all()
    if rpps:
        yield statement.where(DirectoryEntry.rpps.in_(sorted(set(rpps)))), DirectoryEntry.rpps


def _name_matches(words: list[str], row) -> bool:
    name_words = f"{row.first_name_key} {row.last_name_key}".split()
    return all(any(name.startswith(word) for name in name_words) for word in words)


def _kept(rows, professions: set[str] | None, limit: int) -> list[dict]:
    found = []
    for row in rows:
        entry = _entry(row)
        if professions is not None and entry["profession"] not in professions:
            continue
        found.append(entry)
        if len(found) >= limit:
            break
    return found


def _entry(row) -> dict:
    entry = {column.key: getattr(row, column.key) for column in _COLUMNS}
    entry["profession"] = profession_of(row.profession_code, row.specialty_code)
    return entry


def departements_of(cpts_ids: set[int] | None) -> set[str] | None:
    """The départements of these CPTS' communes (``None``: every CPTS, so no bound)."""
    if cpts_ids is None:
        return None
    return territory_departements(cpts_ids)


def territory_departements(cpts_ids: set[int] | None = None) -> set[str]:
    """The départements of the communes of these CPTS (``None``: of every CPTS)."""
    codes = select(Commune.insee).distinct()
    if cpts_ids is not None:
        codes = codes.where(Commune.cpts_id.in_(sorted(cpts_ids)))
    return {d for d in map(departement_of_code, db.session.scalars(codes)) if d}
