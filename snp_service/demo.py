"""Demo data modelled on the seeds: CPTS Littoral Vendéen and its neighbour Loire Vendée Océan.

Both share one regulation area, as in summer 2020. Coordinates are approximate
commune centroids; RPPS numbers and names are invented.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from .accounts import users
from .accounts.passwords import DEMO_PASSWORD, demo_password_allowed
from .core.database import write_transaction
from .core.errors import Invalid
from .core.extensions import db
from .core.identifiers import with_luhn_key
from .core.timeutil import PARIS, paris_today
from .directory.loading import load_extract
from .directory.search import current_load
from .models import (
    Channel, Commune, Cpts, Outcome, Practitioner, Profession, Role, Slot, SlotMode, SlotStatus, TreatingDoctor,
)
from .reporting import history_import, seasons
REGULATION_AREA = "Vendée littoral nord"

LV_COMMUNES = [
    ("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428, "85800"),
    ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9453, "85270"),
    ("85234", "Saint-Jean-de-Monts", 46.7906, -2.0597, "85160"),
    ("85164", "Notre-Dame-de-Monts", 46.8314, -2.1325, "85690"),
    ("85092", "Le Fenouiller", 46.7175, -1.8983, "85800"),
    ("85100", "Givrand", 46.6717, -1.8872, "85800"),
    ("85263", "Saint-Révérend", 46.7025, -1.8311, "85220"),
    ("85071", "Commequiers", 46.7650, -1.8361, "85220"),
    ("85070", "Coëx", 46.6972, -1.7597, "85220"),
    ("85035", "Brétignolles-sur-Mer", 46.6333, -1.8625, "85470"),
    ("85001", "L'Aiguillon-sur-Vie", 46.6686, -1.8286, "85220"),
    ("85284", "Soullans", 46.7961, -1.9006, "85300"),
]
LVO_COMMUNES = [
    ("85047", "Challans", 46.8467, -1.8778, "85300"),
    ("85012", "Beauvoir-sur-Mer", 46.9139, -2.0433, "85230"),
    ("85029", "Bouin", 46.9747, -1.9947, "85230"),
]
# Invented FINESS numbers (department 85): the SAS platform names a CPTS by its FINESS.
LV_FINESS, LVO_FINESS = "850027915", "850028012"
FIRST_NAMES = ["Claire", "Julien", "Sophie", "Thomas", "Anne", "Nicolas", "Camille", "Pierre", "Marion",
               "Laurent", "Élise", "François", "Hélène", "Mathieu", "Isabelle", "Olivier", "Lucie", "Antoine",
               "Céline", "Yann"]
LAST_NAMES = ["Martin", "Bernard", "Robin", "Guérin", "Morel", "Fournier", "Girard", "Bonnet", "Dupont",
              "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier",
              "Blanc", "Garnier"]


def load_demo(today: date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo world; returns (email, role, password) of the accounts, or [] if already there."""
    if not demo_password_allowed():
        raise Invalid("Démonstration refusée ici : ses comptes ont un mot de passe publié (ALLOW_DEMO_PASSWORD).")
    if db.session.scalar(select(Cpts.id).where(Cpts.name == "CPTS Littoral Vendéen")) is not None:
        return []
    rng = random.Random(2020)
    with write_transaction():
        lv = _cpts("CPTS Littoral Vendéen", 62_000, LV_COMMUNES, LV_FINESS)
        lvo = _cpts("CPTS Loire Vendée Océan", 45_000, LVO_COMMUNES, LVO_FINESS)
        gps = _practitioners(lv, LV_COMMUNES, 16, 0) + _practitioners(lvo, LVO_COMMUNES, 4, 16)
        _upcoming_slots(gps, today or paris_today(), rng)
        _upcoming_slots(_other_professions(lv), today or paris_today(), rng)
    created = _accounts(lv, lvo, gps)
    _summer_seasons(lv, gps[:16], today or paris_today())
    _directory()
    return created


# A few dozen invented professionals of département 85 in the ANS extract's format (tools/make_demo_directory.py).
DEMO_DIRECTORY = Path(__file__).resolve().parent / "data" / "directory_demo.txt"


def _directory() -> None:
    """The demo's national directory, through the operator's loader, unless a directory was loaded already."""
    if current_load() is None:
        load_extract("cli", str(DEMO_DIRECTORY), ["85"])


def _cpts(name: str, population: int, communes, finess: str) -> Cpts:
    cpts = Cpts(name=name, population=population, regulation_area=REGULATION_AREA, finess=finess,
                aci_signed_on=date(2020, 3, 1), aci_missions=["accès aux soins", "parcours", "prévention"],
                indicator_targets={"fill_rate": 0.7, "avg_offered_per_day": 20, "participating_practitioners": 30},
                communes=[Commune(insee=i, name=n, lat=la, lon=lo, postal_code=pc) for i, n, la, lo, pc in communes])
    db.session.add(cpts)
    return cpts


def _practitioners(cpts: Cpts, communes, count: int, offset: int) -> list[Practitioner]:
    result = []
    for n in range(count):
        insee, commune_name, lat, lon, postal_code = communes[n % len(communes)]
        k = offset + n
        practitioner = Practitioner(
            rpps=with_luhn_key(f"10100{k:05d}"), first_name=FIRST_NAMES[k % 20], last_name=LAST_NAMES[(k * 7) % 20],
            profession=Profession.GP, phone=f"+3325{(k * 37) % 100:02d}{k:05d}"[:12],
            address=f"{(k % 40) + 1} rue de la Plage, {commune_name}", commune_insee=insee, postal_code=postal_code,
            # Invented SIRET of each practice; one GP in three shows their slots to the SAS platform.
            practice_siret=with_luhn_key(f"8{k:05d}0000{k % 97:02d}0"[:13]), sas_participation=k % 3 == 0,
            # One GP in four receives the regulators' slot requests.
            takes_requests=k % 4 == 1,
            lat=lat + 0.002 * (n % 3), lon=lon - 0.002 * (n % 2), cpts=[cpts])
        db.session.add(practitioner)
        result.append(practitioner)
    return result


# Seed 004: the other professionals "ont toute leur place dans la prise en charge des SNP".
OTHER_PROFESSIONALS = ((Profession.NURSE, "Claire", "Morel"), (Profession.NURSE, "Hugo", "Renaud"),
                       (Profession.PHYSIOTHERAPIST, "Inès", "Caron"))


def _other_professions(cpts: Cpts) -> list[Practitioner]:
    """Two nurses and a physiotherapist of the first CPTS (no account: the regulators book them)."""
    result = []
    for k, (profession, first_name, last_name) in enumerate(OTHER_PROFESSIONALS):
        insee, commune_name, lat, lon, postal_code = LV_COMMUNES[k % len(LV_COMMUNES)]
        practitioner = Practitioner(
            rpps=with_luhn_key(f"10200{k:05d}"), first_name=first_name, last_name=last_name, profession=profession,
            phone=f"+332510{k:05d}"[:12], address=f"{k + 2} avenue de la Mer, {commune_name}", commune_insee=insee,
            postal_code=postal_code, lat=lat - 0.003, lon=lon + 0.002, cpts=[cpts])
        db.session.add(practitioner)
        result.append(practitioner)
    return result


def _upcoming_slots(gps: list[Practitioner], today: date, rng: random.Random) -> None:
    """Each GP opens one or two afternoon blocks of 15-minute slots on some of the next 7 days."""
    db.session.flush()
    for gp in gps:
        for day in (today + timedelta(days=d) for d in range(8)):
            if day.isoweekday() == 7 or rng.random() < 0.45:
                continue
            hour = rng.choice([11, 14, 16, 17])
            start = datetime.combine(day, time(hour, 0), PARIS)
            for i in range(rng.choice([2, 3, 4])):
                begin = start + timedelta(minutes=15 * i)
                db.session.add(Slot(practitioner_id=gp.id, start_at=begin, end_at=begin + timedelta(minutes=15),
                                    mode=SlotMode.OFFICE, status=SlotStatus.FREE))


def _accounts(lv: Cpts, lvo: Cpts, gps: list[Practitioner]) -> list[tuple[str, str, str]]:
    specs = [("admin@snp.demo", Role.ADMIN, [], None),
             ("coordination@cpts-lv.demo", Role.COORDINATOR, [lv.id], None),
             ("regulation1@cpts-lv.demo", Role.REGULATOR, [lv.id], None),
             ("regulation2@cpts-lv.demo", Role.REGULATOR, [lv.id], None)]
    specs += [(f"medecin{n + 1:02d}@cpts-lv.demo", Role.GP, [gp.cpts[0].id], gp.id) for n, gp in enumerate(gps)]
    for email, role, cpts_ids, practitioner_id in specs:
        users.create_user("cli:demo", email=email, password=DEMO_PASSWORD, role=role,
                             cpts_ids=cpts_ids, practitioner_id=practitioner_id)
    return [(email, role, DEMO_PASSWORD) for email, role, _c, _p in specs]


def _summer_seasons(lv: Cpts, gps: list[Practitioner], today: date) -> None:
    """Last summer (13/07-10/09) and this one, loaded through the history import as a CPTS would.

    Like the seeds' 2020 experiment: about 20 slots a day, filled at 40 % at first and
    100 % at the end (about 60 % on average); this summer starts better, at 50 %.
    """
    for year, first_rate in ((today.year - 1, 0.4), (today.year, 0.5)):
        first, last = date(year, 7, 13), date(year, 9, 10)
        imported_until = min(last, today - timedelta(days=1))
        if imported_until >= first:
            rows = _history_rows(gps, first, imported_until, (last - first).days, first_rate, random.Random(year))
            history_import.import_history("cli:demo", lv.id, rows.encode())
        seasons.create_season("cli:demo", {"cpts_id": lv.id, "name": f"Été {year}", "start_date": first, "end_date": last})


def _history_rows(gps: list[Practitioner], first: date, last: date, season_days: int, first_rate: float,
                  rng: random.Random) -> str:
    """The history CSV: each day five or six GPs open a block of three or four quarter-hours."""
    lines = [",".join(history_import.COLUMNS)]
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        rate = first_rate + (1 - first_rate) * (offset / season_days) ** 2
        for gp in rng.sample(gps, rng.choice([5, 6])):
            block = datetime.combine(day, time(rng.choice([9, 11, 14, 16]), 0), PARIS)
            for i in range(rng.choice([3, 4])):
                lines.append(_history_line(gp, block + timedelta(minutes=15 * i), rate, rng))
    return "\n".join(lines) + "\n"


def _history_line(gp: Practitioner, start: datetime, rate: float, rng: random.Random) -> str:
    end = start + timedelta(minutes=15)
    if rng.random() >= rate:
        withdrawn = int(rng.random() < 0.04)
        return f"{gp.rpps},{start.isoformat()},{end.isoformat()},office,{withdrawn},0,,,,"
    booked_at = start - timedelta(minutes=rng.randint(20, 36 * 60))
    channel = rng.choices(Channel.values(), weights=[70, 15, 10, 5])[0]
    outcome = Outcome.NO_SHOW if rng.random() < 0.07 else Outcome.HONORED
    treating = rng.choices(TreatingDoctor.values(), weights=[50, 35, 15])[0]
    return f"{gp.rpps},{start.isoformat()},{end.isoformat()},office,0,1,{booked_at.isoformat()},{channel},{outcome},{treating}"
