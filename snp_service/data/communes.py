"""The French communes: look-up by INSEE code, search by name, INSEE code or postal code.

The list is `communes.csv.gz` beside this module: the 34,875 communes of the INSEE's COG 2026 in
metropolitan France, Corsica and the overseas départements (971-974, 976), each with its name,
postal codes, département, centroid and population. `tools/make_communes.py` made it from Etalab's
`@etalab/decoupage-administratif` and IGN's ADMIN EXPRESS outlines (Licence Ouverte); its
docstring names the package versions and the command that regenerates it.

Paris, Lyon and Marseille are one commune each (75056, 69123, 13055). The codes of their
arrondissements municipaux, of communes déléguées and associées, and former codes, all of which
the national directory (RPPS) may give, lead to the commune they belong to (`get`).

The file is read once per process, on first use, by whichever thread asks first (about half a
second of CPU), into columns: 16 MB of objects, about 26 MB of the process's resident memory. A
`Commune` is made for each result. `benchmarks/bench_communes.py` measures the load and searches. Nothing here touches the database or Flask: a territory's communes are
stored in its CPTS record, and this list is where they are chosen from.
"""
from __future__ import annotations

import csv
import gzip
import io
import re
import threading
import unicodedata
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

DATA_FILE = Path(__file__).with_name("communes.csv.gz")
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 100  # the longest commune name has 45 characters

# Words typed shortened ("St-Gilles", "Ste Foy"), expanded once the word is complete.
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
# A name is found from its start, from the word after a leading article (L'Aiguillon-sur-Vie from
# "aiguillon"), and then from any later word (Saint-Gilles-Croix-de-Vie from "croix") except these.
ARTICLES = frozenset({"l", "la", "le", "les"})
LINKING_WORDS = ARTICLES | {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "lez", "sous", "sur"}
# An INSEE code: département 01-95, 2A, 2B or 97x, then the commune's number; a postal code is
# five digits. What a person types while entering either:
CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")
CODE_PREFIX = re.compile(r"[0-9][0-9AB]?[0-9]{0,3}")
# A query matching more entries than this keeps its first results (`_Table.broad_names`).
BROAD = 500
_SEPARATORS = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Commune:
    insee: str
    name: str
    postal_codes: tuple[str, ...]
    departement: str
    lat: float
    lon: float
    population: int | None


def get(code: str) -> Commune | None:
    """The commune with this INSEE code, or the one that an arrondissement municipal, a commune
    déléguée or associée, or a former commune with this code belongs to ("75115" → Paris)."""
    if not isinstance(code, str):
        return None
    table = _table()
    place = table.by_code.get(code.strip().upper())
    return None if place is None else table.commune(place)


def departement_of(code: str) -> str | None:
    """The département of the commune with this INSEE code (`85`, `2A`, `974`), or None."""
    commune = get(code)
    return commune.departement if commune else None


def by_postal_code(postal_code: str) -> list[Commune]:
    """The communes served by this postal code, the most populous first."""
    table = _table()
    return [table.commune(place) for place in table.by_postal_code.get(str(postal_code).strip(), ())]


def search(text: str, limit: int = 10) -> list[Commune]:
    """Communes for what a person types: a name's start, an INSEE or postal code, or the start of
    either. Accents, case, hyphens and apostrophes do not matter; "st " and "ste " read as
    "saint " and "sainte ". Names matching from their start come first, then those matching from
    a later word ("croix" finds Saint-Gilles-Croix-de-Vie), each the most populous first; an
    exact INSEE code's commune comes before its postal code's. At most `limit` (1 to MAX_LIMIT)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    text = text[:MAX_QUERY_LENGTH].lstrip() if isinstance(text, str) else ""
    code = text.rstrip().upper()
    if not code:
        return []
    table = _table()
    if CODE_PREFIX.fullmatch(code):
        places = table.search_code(code, limit)
    else:
        places = table.search_name(text, limit)  # a trailing space tells a complete word
    return [table.commune(place) for place in places]


def all_communes() -> Iterator[Commune]:
    """Every commune, by INSEE code."""
    table = _table()
    return (table.commune(table.by_code[code]) for code in table.insee_codes)


def normalise(text: str) -> str:
    """Lower case, no accents, words separated by one space: "L'Île-d'Yeu" → "l ile d yeu"."""
    # Separators first (’ « and the like are not ASCII), on composed text (an accent typed as a
    # combining mark is no separator), then accents dropped with the rest.
    composed = unicodedata.normalize("NFC", text).casefold().replace("œ", "oe").replace("æ", "ae")
    words = _SEPARATORS.sub(" ", composed)
    return " ".join(unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode("ascii").split())


def _query_key(text: str) -> str:
    """The prefix to look for. Complete words (followed by a separator) are expanded and keep a
    trailing space, so "st " finds Saint-… and not Stenay, and "saint " not Saintes."""
    text = unicodedata.normalize("NFC", text)
    words = normalise(text).split()
    if not words:
        return ""
    complete = not text[-1].isalnum()
    words = [ABBREVIATIONS.get(w, w) if i < len(words) - 1 or complete else w for i, w in enumerate(words)]
    return " ".join(words) + (" " if complete else "")


class _Table:
    """The communes in columns, by place: their rank by population, the most populous first
    (then by name), which is the order of every search's results."""

    def __init__(self, columns: _Columns):
        order = sorted(range(len(columns.insee)),
                       key=lambda n: (-columns.population[n], columns.names[n], columns.insee[n]))
        size = self.size = len(order)
        self.insee = [columns.insee[n] for n in order]
        self.names = [columns.names[n] for n in order]
        self.postal = [columns.postal[n] for n in order]
        self.departement = [columns.departement[n] for n in order]
        self.lat = array("d", (columns.lat[n] for n in order))
        self.lon = array("d", (columns.lon[n] for n in order))
        self.population = array("l", (columns.population[n] for n in order))
        self.insee_codes = sorted(self.insee)
        self.by_code = {code: place for place, code in enumerate(self.insee)}
        place_of = {n: place for place, n in enumerate(order)}
        for n, code in columns.other_codes:
            self.by_code.setdefault(code, place_of[n])
        by_postal_code: dict[str, list[int]] = {}
        for place, codes in enumerate(self.postal):
            for code in codes:
                by_postal_code.setdefault(code, []).append(place)
        self.by_postal_code = {code: tuple(places) for code, places in by_postal_code.items()}
        self.postal_codes = sorted(self.by_postal_code)
        # The name index: one entry per way into a name, from its start or after a leading article
        # (rank 0) or from a later word (rank 1). `values` holds rank * size + place and `offsets`
        # where the entry starts in the normalised name; entries are sorted by the text from there,
        # so a prefix is two bisections, and sorting the matches' values sorts them by rank, then
        # place.
        self.keys = [normalise(name) + " " for name in self.names]
        entries = array("q")  # while sorting: value << 8 | offset
        for place, key in enumerate(self.keys):
            words, offset = key.split(), 0
            for index, word in enumerate(words):
                if index == 0 or (index == 1 and words[0] in ARTICLES):
                    entries.append(place << 8 | offset)
                elif word not in LINKING_WORDS and len(word) > 1:
                    entries.append((size + place) << 8 | offset)
                offset += len(word) + 1
        ordered = sorted(entries, key=lambda entry: self.keys[(entry >> 8) % size][entry & 0xFF:])
        self.values = array("q", (entry >> 8 for entry in ordered))
        self.offsets = array("B", (entry & 0xFF for entry in ordered))
        # The first MAX_LIMIT results of each broad query ("s", "saint", "59"), made on first use.
        # Bounded: only a prefix of names or codes can match that much (about 140 of them).
        self.broad_names: dict[str, list[int]] = {}
        self.broad_codes: dict[str, list[int]] = {}

    def _entry_text(self, index: int) -> str:
        return self.keys[self.values[index] % self.size][self.offsets[index]:]

    def commune(self, place: int) -> Commune:
        population = self.population[place]
        return Commune(insee=self.insee[place], name=self.names[place], postal_codes=self.postal[place],
                       departement=self.departement[place], lat=self.lat[place], lon=self.lon[place],
                       population=None if population < 0 else population)

    def search_name(self, text: str, limit: int) -> list[int]:
        query = _query_key(text)
        if not query:
            return []
        if (kept := self.broad_names.get(query)) is not None:
            return kept[:limit]
        entries = range(len(self.values))
        low = bisect_left(entries, query, key=self._entry_text)
        high = bisect_left(entries, query + "\U0010ffff", low, key=self._entry_text)
        keep = self.broad_names if high - low > BROAD else None
        return self._first(sorted(self.values[low:high]), limit, keep, query)

    def search_code(self, text: str, limit: int) -> list[int]:
        """Places of communes whose INSEE code or a postal code starts with `text`; an exact code's
        commune (or the one it belongs to) first."""
        exact = self.by_code.get(text) if CODE.fullmatch(text) else None
        if (kept := self.broad_codes.get(text)) is None:
            places = [self.by_code[code] for code in _starting_with(self.insee_codes, text)]
            for postal_code in _starting_with(self.postal_codes, text):
                places.extend(self.by_postal_code[postal_code])
            kept = self._first(sorted(places), MAX_LIMIT, self.broad_codes if len(places) > BROAD else None, text)
        if exact is not None:
            return [exact] + [place for place in kept if place != exact][:limit - 1]
        return kept[:limit]

    def _first(self, values: list[int], limit: int, keep: dict | None = None, query: str = "") -> list[int]:
        """The first `limit` distinct places of sorted values (rank * size + place, or places).
        A broad query's first MAX_LIMIT are kept in `keep` for the next time."""
        seen: set[int] = set()
        places = []
        for value in values:
            place = value % self.size
            if place not in seen:
                seen.add(place)
                places.append(place)
                if len(places) == (MAX_LIMIT if keep is not None else limit):
                    break
        if keep is not None:
            keep[query] = places
        return places[:limit]


def _starting_with(codes: list[str], prefix: str) -> Iterator[str]:
    index = bisect_left(codes, prefix)
    while index < len(codes) and codes[index].startswith(prefix):
        yield codes[index]
        index += 1


@dataclass
class _Columns:
    """The file's rows as read, in columns (one string object per département and postal code)."""

    insee: list[str]
    names: list[str]
    postal: list[tuple[str, ...]]
    departement: list[str]
    lat: list[float]
    lon: list[float]
    population: list[int]  # -1: unknown
    other_codes: list[tuple[int, str]]  # (row, code)


COLUMNS = ["insee", "name", "postal_codes", "departement", "lat", "lon", "population", "other_codes"]


def _read(path: Path) -> _Columns:
    """Row by row, keeping only what the table holds (a lower peak than reading it whole)."""
    columns = _Columns([], [], [], [], [], [], [], [])
    shared: dict[str, str] = {}
    with gzip.open(path, "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8"))
        if (header := next(reader)) != COLUMNS:
            raise ValueError(f"{path}: columns {header}, expected {COLUMNS}")
        for n, (insee, name, postal_codes, departement, lat, lon, population, other_codes) in enumerate(reader):
            columns.insee.append(insee)
            columns.names.append(name)
            columns.postal.append(tuple(shared.setdefault(p, p) for p in postal_codes.split()))
            columns.departement.append(shared.setdefault(departement, departement))
            columns.lat.append(float(lat))
            columns.lon.append(float(lon))
            columns.population.append(int(population) if population else -1)
            columns.other_codes.extend((n, code) for code in other_codes.split())
    return columns


_lock = threading.Lock()
_loaded: _Table | None = None


def _table() -> _Table:
    global _loaded
    if _loaded is None:
        with _lock:  # two first requests at once read the file once
            if _loaded is None:
                _loaded = _Table(_read(DATA_FILE))
    return _loaded
