"""Reading the ANS "PS_LibreAcces_Personne_activite" extract, one line at a time.

The format (``/work/shared/directory/README.md`` in the project guide): UTF-8, ``|``-separated, no
quoting, a header line, one line per activity of a professional, and published lines ending with a
``|`` that some copies lack. The ANS adds columns at the end over the years, so every column is
found by its header name, never by its position. Memory stays bounded whatever the file's size:
nothing but the current line and the rows kept so far in a batch is held.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from ..data.communes import normalise

# TRE_G15 professions the service knows, and the service's code for each.
PROFESSIONS = {"10": "gp", "60": "nurse", "70": "physiotherapist", "21": "pharmacist", "50": "midwife"}
# TRE_R38 specialties that make a médecin a general practitioner (the other médecins are kept: a
# caller's treating doctor may be any of them).
GENERAL_PRACTICE = frozenset({"SM54", "SM53", "SM26"})
DOCTOR = "10"
RPPS_TYPE = "8"  # "Type d'identifiant PP": 8 RPPS, 0 ADELI (ADELI numbers are not RPPS: not kept)

COLUMNS = {
    "id_type": "Type d'identifiant PP",
    "rpps": "Identifiant PP",
    "last_name": "Nom d'exercice",
    "first_name": "Prénom d'exercice",
    "profession_code": "Code profession",
    "specialty_code": "Code savoir-faire",
    "specialty_label": "Libellé savoir-faire",
    "siret": "Numéro SIRET site",
    "finess": "Numéro FINESS site",
    "street_number": "Numéro Voie (coord. structure)",
    "street_repeat": "Indice répétition voie (coord. structure)",
    "street_type": "Libellé type de voie (coord. structure)",
    "street": "Libellé Voie (coord. structure)",
    "postal_code": "Code postal (coord. structure)",
    "commune_code": "Code commune (coord. structure)",
    "commune_name": "Libellé commune (coord. structure)",
    "phone": "Téléphone (coord. structure)",
    "departement": "Code Département (structure)",
}
# Lengths of the directory's columns: longer values are cut rather than refused (a long street name
# is not a malformed line).
_LENGTHS = {"last_name": 100, "first_name": 100, "specialty_label": 150, "address": 300, "commune_name": 100,
            "phone": 20}
MAX_ERRORS_LISTED = 50


class ExtractError(Exception):
    """The file cannot be read as an extract: no header, or a column the service needs is missing."""


@dataclass
class ExtractReader:
    """Reads one extract: ``rows(departements)`` yields the kept rows; ``errors`` lists the wrong lines."""
    stream: BinaryIO
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    lines_read: int = 0

    def __post_init__(self):
        header = self.stream.readline()
        if not header.strip():
            raise ExtractError("Fichier vide : la première ligne doit être l'en-tête de l'extraction")
        try:
            names = header.decode("utf-8-sig").rstrip("\r\n").split("|")
        except UnicodeDecodeError:
            raise ExtractError("Ligne 1 : l'en-tête n'est pas en UTF-8")
        if names and names[-1] == "":
            names.pop()  # the trailing "|"
        self.width = len(names)
        positions = {name.strip(): i for i, name in enumerate(names)}
        missing = [name for name in COLUMNS.values() if name not in positions]
        if missing:
            raise ExtractError("Colonnes absentes de l'en-tête : " + ", ".join(f"« {n} »" for n in missing))
        self.positions = {key: positions[name] for key, name in COLUMNS.items()}

    def _error(self, number: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append((number, reason))

    def rows(self, departements: set[str]) -> Iterator[dict]:
        """The kept rows (professions known, RPPS identifiers, these départements), as directory columns."""
        p = self.positions
        width = self.width
        id_type, rpps, profession, dept, commune_code = (p["id_type"], p["rpps"], p["profession_code"],
                                                         p["departement"], p["commune_code"])
        number = 1
        for number, raw in enumerate(self.stream, start=2):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                self._error(number, f"pas en UTF-8 (octet {error.start + 1})")
                continue
            fields = line.rstrip("\r\n").split("|")
            count = len(fields)
            if count == width + 1 and fields[-1] == "":
                fields.pop()
            elif count != width:
                if count == 1 and not fields[0]:
                    self._error(number, "ligne vide")
                else:
                    self._error(number, f"{count} champs au lieu de {width}")
                continue
            if fields[profession] not in PROFESSIONS or fields[id_type] != RPPS_TYPE:
                continue
            departement = fields[dept] or departement_of_code(fields[commune_code])
            if departement not in departements:
                continue
            identifier = fields[rpps]
            if len(identifier) != 11 or not identifier.isdigit():
                self._error(number, f"identifiant RPPS « {identifier[:20]} » : 11 chiffres attendus")
                continue
            if not fields[p["last_name"]].strip():
                self._error(number, "nom d'exercice vide")
                continue
            yield _row(fields, p, departement)
        self.lines_read = number - 1


def departement_of_code(insee: str) -> str:
    """The département an INSEE code belongs to, by the code's own rule (2A, 2B, 97x): no table needed.

    The loader never reads the communes list: 26 MB of it in memory would take the load past its
    150 MB budget. Readers map a commune code to its commune (an arrondissement to Paris...).
    """
    if len(insee) != 5:
        return ""
    return insee[:3] if insee.startswith("97") else insee[:2]


def _row(fields: list[str], p: dict, departement: str) -> dict:
    street = " ".join(part for part in (fields[p["street_number"]], fields[p["street_repeat"]],
                                        fields[p["street_type"]], fields[p["street"]]) if part.strip())
    siret, finess, postal = fields[p["siret"]], fields[p["finess"]], fields[p["postal_code"]]
    specialty = fields[p["specialty_code"]]
    row = {
        "rpps": fields[p["rpps"]],
        "last_name": fields[p["last_name"]].strip(),
        "first_name": fields[p["first_name"]].strip(),
        "profession_code": fields[p["profession_code"]],
        "specialty_code": specialty[:10] or None,
        "specialty_label": fields[p["specialty_label"]] or None,
        "practice_siret": siret if len(siret) == 14 and siret.isdigit() else None,
        "practice_finess": finess if len(finess) == 9 else None,
        "address": street or None,
        "postal_code": postal if len(postal) == 5 and postal.isdigit() else None,
        "commune_insee": fields[p["commune_code"]] if len(fields[p["commune_code"]]) == 5 else None,
        "commune_name": fields[p["commune_name"]] or None,
        "phone": fields[p["phone"]] or None,
        "departement": departement[:3],
    }
    for key, length in _LENGTHS.items():
        if row[key] and len(row[key]) > length:
            row[key] = row[key][:length]
    row["last_name_key"] = normalise(row["last_name"])[:100]
    row["later_name_key"] = row["last_name_key"].partition(" ")[2]
    row["first_name_key"] = normalise(row["first_name"])[:100]
    return row


def later_words(row: dict) -> set[str]:
    """The words of a row's names that its keys do not start (``models.DirectoryNameWord``): the last name's
    third word on, the first name's second word on."""
    return set(row["last_name_key"].split()[2:]) | set(row["first_name_key"].split()[1:])


def profession_of(profession_code: str, specialty_code: str | None) -> str | None:
    """The service's profession for a directory row: a médecin is a GP only with a general-practice specialty."""
    if profession_code == "10":
        return "gp" if specialty_code in GENERAL_PRACTICE else None
    return PROFESSIONS.get(profession_code)
