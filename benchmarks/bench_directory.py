"""The national directory (SPEC section 9): loading a national-size extract, and the name search in the server.

    python benchmarks/bench_directory.py [--rows 2300000] [--database-url URL] [--keep-file]

1. Writes an extract of ``--rows`` lines (default 2.3 million, about 800 MB) in the ANS
   "PS_LibreAcces_Personne_activite" format (tests/directory_files.py's header: 56 columns, trailing
   ``|``), made-up people spread over 96 départements and the professions of the real file
   (médecins, infirmiers, kinés, pharmaciens, sages-femmes, dentists and others not kept, a few ADELI).
2. Runs ``flask --app wsgi snp directory load FILE --departments 85`` as its own process (after
   ``snp init-db`` in another) and prints its wall time and peak RSS (``wait4``'s ru_maxrss of that
   process alone). SPEC: peak RSS <= 150 MB.
3. Times, in the server (the WSGI application, body included), the regulator's treating-doctor
   look-up ``GET /api/v1/practitioners/lookup?q=`` which searches the members and then the directory
   of the area's département: 1,000 requests typing 2 to 8 letters of names present in the
   département, or a name and a first name's start; p50/p95/max. SPEC: p95 <= 20 ms.
Figures are printed, never asserted. The database is a temporary SQLite file unless ``--database-url``.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_booking import percentile, time_in_server  # noqa: E402

from snp_service.data import communes  # noqa: E402
from tests.directory_files import HEADER, person  # noqa: E402

# Shares of the real file's lines, roughly: médecins 40 %, infirmiers 25 %, kinés 9 %, pharmaciens 8 %,
# sages-femmes 3 %, dentists 5 % and the rest (audioprothésistes, opticiens...) not kept.
PROFESSIONS = ["10"] * 40 + ["60"] * 25 + ["70"] * 9 + ["21"] * 8 + ["50"] * 3 + ["40"] * 5 + ["91"] * 10
SYLLABLES = ["ber", "mar", "tin", "lo", "gue", "ri", "don", "ne", "pa", "jot", "ti", "sier", "lan", "du", "mo",
             "reau", "gui", "chard", "fo", "val", "ta", "bre", "ton", "ra", "vi", "cau", "let", "bo", "nier"]
FIRST_NAMES = ["Yann", "Claire", "Paul", "Anaïs", "Éric", "Lucie", "Maëlle", "Hugo", "Inès", "Louis", "Chloé",
               "Jean", "Sophie", "Marc", "Élodie", "Théo", "Camille", "Nathalie", "Pierre", "Julie"]


def last_names(count: int, rng: random.Random) -> list[str]:
    names = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).upper())
    return sorted(names)


def write_extract(path: Path, rows: int, seed: int = 7) -> dict:
    """The extract, one line at a time; returns what the search needs: the names of département 85."""
    rng = random.Random(seed)
    names = last_names(20_000, rng)
    by_departement: dict[str, list] = {}
    for commune in communes.all_communes():
        by_departement.setdefault(commune.departement, []).append(commune)
    departements = [d for d in sorted(by_departement) if len(d) == 2]
    template = person(1)
    base = [template.get(name, "") for name in HEADER]
    at = {name: HEADER.index(name) for name in (
        "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Nom d'exercice",
        "Prénom d'exercice", "Code profession", "Libellé profession", "Code savoir-faire",
        "Code postal (coord. structure)", "Code commune (coord. structure)", "Libellé commune (coord. structure)",
        "Code Département (structure)")}
    names_85 = set()
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("|".join(HEADER) + "|\n")
        for n in range(rows):
            fields = base[:]
            departement = departements[n % len(departements)]
            commune = by_departement[departement][n // len(departements) % len(by_departement[departement])]
            profession = PROFESSIONS[n % len(PROFESSIONS)]
            last, first = names[rng.randrange(len(names))], FIRST_NAMES[n % len(FIRST_NAMES)]
            rpps = f"1{n:010d}"
            adeli = n % 50 == 49
            fields[at["Type d'identifiant PP"]] = "0" if adeli else "8"
            fields[at["Identifiant PP"]] = rpps[:9] if adeli else rpps
            fields[at["Identification nationale PP"]] = ("0" + rpps[:9]) if adeli else "8" + rpps
            fields[at["Nom d'exercice"]] = last
            fields[at["Prénom d'exercice"]] = first
            fields[at["Code profession"]] = profession
            fields[at["Code savoir-faire"]] = ("SM54" if n % 3 else "SM20") if profession == "10" else ""
            fields[at["Code postal (coord. structure)"]] = commune.postal_codes[0] if commune.postal_codes else ""
            fields[at["Code commune (coord. structure)"]] = commune.insee
            fields[at["Libellé commune (coord. structure)"]] = commune.name
            fields[at["Code Département (structure)"]] = departement
            out.write("|".join(fields) + "|\n")
            if departement == "85" and profession == "10" and not adeli:
                names_85.add((last, first))
    return {"names_85": sorted(names_85)}


def run_measured(command: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, output) of ``command`` run as its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return wall, usage.ru_maxrss / 1024, output


def bench_search(url: str, names: list[tuple[str, str]], requests: int) -> list[float]:
    from snp_service import create_app
    from snp_service.accounts import tokens
    from snp_service.core.extensions import db
    from snp_service.models import Commune, Cpts, User

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        cpts = Cpts(name="CPTS du banc", population=50_000, regulation_area="Vendée",
                    communes=[Commune(insee="85222", name="Saint-Gilles-Croix-de-Vie", lat=46.6975, lon=-1.9428)])
        user = User(email="regulateur@banc.example", password_hash="x", role="regulator", cpts=[cpts])
        db.session.add_all([cpts, user])
        db.session.commit()
        secret, _ = tokens.issue_token(user, timedelta(hours=2))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    rng = random.Random(11)
    typed = []
    for _ in range(requests):
        last, first = rng.choice(names)
        typed.append(last[:rng.randint(2, 8)].lower() if rng.random() < 0.7 else f"{last.lower()} {first[:2]}")
    for query in typed[:50]:  # warm-up
        client.get("/api/v1/practitioners/lookup", query_string={"q": query, "limit": 8}, headers=headers)
    timings = time_in_server(app)
    found = 0
    for query in typed:
        response = client.get("/api/v1/practitioners/lookup", query_string={"q": query, "limit": 8}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        found += bool(response.get_json()["results"])
    print(f"  {found} of {len(typed)} look-ups found someone")
    lookups = list(timings)
    # The same machine's floor in the same run: the smallest authenticated request (the member list).
    timings.clear()
    for _ in range(len(typed) // 4):
        client.get("/api/v1/practitioners/lookup", query_string={"q": "zz", "limit": 8}, headers=headers)
    print(f"  floor (a look-up finding nobody, {len(timings)} requests): p50 {percentile(timings, 0.5):.2f} ms, "
          f"p95 {percentile(timings, 0.95):.2f} ms")
    return lookups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_300_000)
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--keep-file", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-directory-"))
    extract = workdir / "PS_LibreAcces_Personne_activite_202612070000.txt"
    started = time.perf_counter()
    made = write_extract(extract, args.rows)
    print(f"extract: {args.rows:,} lines, {extract.stat().st_size / 1e6:,.0f} MB, written in "
          f"{time.perf_counter() - started:.1f} s")
    url = args.database_url or f"sqlite:///{workdir / 'directory.sqlite3'}"
    env = dict(os.environ, SNP_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "snp"]
    run_measured(flask + ["init-db"], env)
    wall, rss, output = run_measured(flask + ["directory", "load", str(extract), "--departments", "85"], env)
    print(f"load (département 85): {wall:.1f} s, peak RSS {rss:.0f} MB (SPEC <= 150 MB)\n  {output.strip()}")
    wall, rss, output = run_measured(flask + ["directory", "load", str(extract), "--departments", "85"], env)
    print(f"reload (replaces the first): {wall:.1f} s, peak RSS {rss:.0f} MB")
    timings = bench_search(url, made["names_85"], args.requests)
    print(f"look-up by name in the server, {len(timings)} requests: p50 {percentile(timings, 0.5):.2f} ms, "
          f"p95 {percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms (SPEC p95 <= 20 ms)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.keep_file:
        print(f"kept: {extract}")
    else:
        extract.unlink()


if __name__ == "__main__":
    main()
