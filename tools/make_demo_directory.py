"""Write snp_service/data/directory_demo.txt, the demo's small national directory (``snp demo`` loads it).

A few dozen invented professionals of département 85 in the ANS "PS_LibreAcces_Personne_activite" format
(the header and line maker of tests/directory_files.py): GPs who are not members of the demo CPTS (a few
with compound names), nurses and physiotherapists, and four demo members as the real directory lists them
too. Every RPPS and SIRET carries a valid Luhn key; none is a real person's. Run it again after changing
the lists below:

    PYTHONPATH=. python tools/make_demo_directory.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snp_service.core.identifiers import with_luhn_key  # noqa: E402
from snp_service.demo import FIRST_NAMES, LAST_NAMES, LV_COMMUNES, LVO_COMMUNES  # noqa: E402
from tests.directory_files import HEADER, line, person  # noqa: E402

TARGET = ROOT / "snp_service" / "data" / "directory_demo.txt"

# (last name, first name, profession code): 10 médecin (general practice), 60 infirmier, 70 kinésithérapeute.
NON_MEMBERS = [
    ("DE LA FONTAINE", "Jean-Pierre", "10"), ("LE GALL MARTIN", "Anne", "10"), ("BOUCHER-LEROY", "Hélène", "10"),
    ("PERRAUD", "Gilles", "10"), ("TESSIER", "Maud", "10"), ("CHARRIER", "Bruno", "10"), ("JOLLY", "Agnès", "10"),
    ("MOREAU", "Denis", "10"), ("RAUTUREAU", "Estelle", "10"), ("BILLAUD", "Xavier", "10"),
    ("GRONDIN", "Sylvie", "10"), ("PAJOT", "Vincent", "10"), ("BARBEAU", "Clément", "10"),
    ("VRIGNAUD", "Laure", "10"), ("ROBIN DU BOIS", "Marc", "10"), ("GUILBAUD", "Adèle", "10"),
    ("BOUTET", "Noémie", "60"), ("RENAUDIN", "Paul", "60"), ("FRADET", "Chloé", "60"), ("GAUTREAU", "Inès", "60"),
    ("MARTINEAU", "Léa", "60"), ("POTIER", "Julie", "60"), ("AUGEREAU", "Théo", "70"), ("COUTAND", "Emma", "70"),
    ("DAVIAUD", "Louis", "70"), ("SIMONEAU", "Manon", "70"), ("LOIZEAU", "Hugo", "70"),
]


def rows() -> list[dict]:
    communes = LV_COMMUNES + LVO_COMMUNES
    people = []
    for n, (last_name, first_name, profession) in enumerate(NON_MEMBERS):
        insee, name, _lat, _lon, postal_code = communes[n % len(communes)]
        people.append(person(n + 1, last_name=last_name, first_name=first_name, profession=profession,
                             commune=insee, postal_code=postal_code, commune_name=name.upper(),
                             rpps=with_luhn_key(f"10300{n:05d}")))
    for k in range(4):  # demo members (snp_service/demo.py's first GPs): the directory lists them too
        insee, name, _lat, _lon, postal_code = LV_COMMUNES[k % len(LV_COMMUNES)]
        people.append(person(100 + k, last_name=LAST_NAMES[(k * 7) % 20].upper(), first_name=FIRST_NAMES[k % 20],
                             commune=insee, postal_code=postal_code, commune_name=name.upper(),
                             rpps=with_luhn_key(f"10100{k:05d}")))
    return people


def main() -> None:
    with open(TARGET, "w", encoding="utf-8", newline="\n") as out:
        out.write("|".join(HEADER) + "|\n")
        out.writelines(line(p) for p in rows())
    print(f"{TARGET}: {len(rows())} lines")


if __name__ == "__main__":
    main()
