"""Extract files in the ANS "PS_LibreAcces_Personne_activite" format, made up for tests and benchmarks.

The header is today's exact 56 columns; people are invented (names start with ``FICTIF-``) and their
RPPS carry a valid Luhn key, as in the project guide's sample.
"""
from __future__ import annotations

HEADER = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
    "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|"
    "Code profession|Libellé profession|Code catégorie professionnelle|Libellé catégorie professionnelle|"
    "Code type savoir-faire|Libellé type savoir-faire|Code savoir-faire|Libellé savoir-faire|"
    "Code mode exercice|Libellé mode exercice|Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|"
    "Numéro FINESS établissement juridique|Identifiant technique de la structure|Raison sociale site|"
    "Enseigne commerciale site|Complément destinataire (coord. structure)|"
    "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
    "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
    "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|Code postal (coord. structure)|"
    "Code commune (coord. structure)|Libellé commune (coord. structure)|Code pays (coord. structure)|"
    "Libellé pays (coord. structure)|Téléphone (coord. structure)|Téléphone 2 (coord. structure)|"
    "Télécopie (coord. structure)|Adresse e-mail (coord. structure)|Code Département (structure)|"
    "Libellé Département (structure)|Ancien identifiant de la structure|Autorité d'enregistrement|"
    "Code secteur d'activité|Libellé secteur d'activité|Code section tableau pharmaciens|"
    "Libellé section tableau pharmaciens|Code rôle|Libellé rôle|Code genre activité|Libellé genre activité"
).split("|")
PROFESSION_LABELS = {"10": "Médecin", "21": "Pharmacien", "40": "Chirurgien-Dentiste", "50": "Sage-Femme",
                     "60": "Infirmier", "70": "Masseur-Kinésithérapeute"}


def luhn_key(digits: str) -> str:
    """The digit that makes ``digits`` + it pass the Luhn check."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def rpps_number(n: int) -> str:
    """The ``n``-th made-up RPPS: 10 digits then its Luhn key."""
    base = f"1{n:09d}"
    return base + luhn_key(base)


def person(n: int, *, last_name: str | None = None, first_name: str = "Camille", profession: str = "10",
           specialty: str = "SM54", departement: str = "85", commune: str = "85222", postal_code: str = "85800",
           commune_name: str = "Saint-Gilles-Croix-de-Vie", rpps: str | None = None, id_type: str = "8") -> dict:
    """One activity line's values, by column name (the columns not given are empty)."""
    rpps = rpps or rpps_number(n)
    siret = f"{n:013d}"
    return {
        "Type d'identifiant PP": id_type, "Identifiant PP": rpps, "Identification nationale PP": id_type + rpps,
        "Nom d'exercice": last_name or f"FICTIF-NOM{n}", "Prénom d'exercice": first_name,
        "Code profession": profession, "Libellé profession": PROFESSION_LABELS.get(profession, ""),
        "Code savoir-faire": specialty if profession == "10" else "",
        "Libellé savoir-faire": "Médecine générale" if profession == "10" else "",
        "Code mode exercice": "L", "Libellé mode exercice": "Libéral",
        "Numéro SIRET site": siret + luhn_key(siret), "Numéro Voie (coord. structure)": str(n % 90 + 1),
        "Code type de voie (coord. structure)": "R", "Libellé type de voie (coord. structure)": "Rue",
        "Libellé Voie (coord. structure)": "DES DUNES", "Code postal (coord. structure)": postal_code,
        "Code commune (coord. structure)": commune, "Libellé commune (coord. structure)": commune_name,
        "Code pays (coord. structure)": "99000", "Libellé pays (coord. structure)": "France",
        "Téléphone (coord. structure)": f"02{n % 100_000_000:08d}", "Code Département (structure)": departement,
    }


def line(values: dict, header: list[str] = HEADER, trailing: bool = True) -> str:
    return "|".join(values.get(name, "") for name in header) + ("|" if trailing else "") + "\n"


def extract_text(people: list[dict], header: list[str] = HEADER, trailing: bool = True) -> str:
    return "|".join(header) + ("|" if trailing else "") + "\n" + "".join(line(p, header, trailing) for p in people)
