"""A/B of two checkouts through the HTTP API: slot search, booking and cancel, the fill-rate report.

Each run is its own process with the version's directory first on ``PYTHONPATH``, so it imports that
version's ``snp_service`` and ``config`` and nothing else of the other. It builds a fresh database the way
both versions can (``create_app`` with a config, then the CLI's ``snp init-db`` and ``snp demo``), signs in
the demo regulator and coordinator through ``POST /api/v1/auth/token`` and times, through Flask's test
client (no socket: the service's own cost), after an identical warm-up:

- ``GET /healthz`` and ``GET /readyz`` (the raw baselines: the framework alone, and one ``SELECT 1``);
- ``GET /api/v1/slots/search`` (the regulator's search, cycling over the demo communes);
- ``POST /api/v1/bookings`` on free slots, then ``POST /api/v1/bookings/{id}/cancel`` of each;
- ``GET /api/v1/reports/fill-rate`` of the CPTS's last summer, by day (the coordinator).

Runs alternate A B B A A B ... so a slow spell of the shared machine weighs on both. The table gives, per
operation, the median over rounds of each round's p50 (and p95), B/A, the spread of the round medians,
the per-pair B/A (each A run against the B run next to it), the process CPU per request (median and
spread over runs: on a loaded machine the steadiest figure), and each
operation's p50 over the same run's ``/healthz`` p50 (the ratio to a raw baseline).

    git worktree add /tmp/before21 d7e8860                      # version A: a checkout of the commit to compare
    python benchmarks/ab_versions.py                          # A = /tmp/before21, B = this tree, SQLite
    python benchmarks/ab_versions.py --rounds 8 --postgresql  # also on a throwaway PostgreSQL cluster
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable  # the interpreter running this script (the project's venv)
PASSWORD = "snp-demo-2026"  # the demo's published password (accounts/passwords.py, passwords.py before)
REGULATOR, COORDINATOR = "regulation1@cpts-lv.demo", "coordination@cpts-lv.demo"
COMMUNES = ["85222", "85226", "85234", "85164", "85092", "85100", "85263", "85071", "85070", "85035",
            "85001", "85284", "85047", "85012", "85029"]
PATIENT = {"first_name": "Bench", "last_name": "Patient", "birth_date": "1970-05-05", "phone": "0612345678",
           "has_treating_doctor": "no"}
OPERATIONS = ["healthz", "readyz", "search", "book", "cancel", "report"]


# ---------------------------------------------------------------------------------------------- one run

def run_once(database_url: str, counts: dict) -> dict:
    """In the version's process: build the database, warm up, time each operation."""
    import snp_service
    from snp_service import create_app

    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "ab-versions-secret-key-0123456789abcdef", "SMS_BACKEND": "memory",
                      "SMS_SEND_AFTER_COMMIT": False, "SAS_PUSH_SEND_AFTER_COMMIT": False})
    started = time.perf_counter()
    cli = app.test_cli_runner()
    for command in (["snp", "init-db"], ["snp", "demo"]):
        result = cli.invoke(args=command)
        assert result.exit_code == 0, (command, result.output, result.exception)
    build_s = time.perf_counter() - started
    client = app.test_client()
    regulator, coordinator = _token(client, REGULATOR), _token(client, COORDINATOR)
    cpts_id = coordinator["user"]["cpts_ids"][0]
    auth = {"Authorization": f"Bearer {regulator['token']}"}
    coordination = {"Authorization": f"Bearer {coordinator['token']}"}
    today = time.gmtime()
    year = today.tm_year if (today.tm_mon, today.tm_mday) > (9, 10) else today.tm_year - 1
    report_url = f"/api/v1/reports/fill-rate?cpts_id={cpts_id}&from={year}-07-13&to={year}-09-10&group_by=day"

    def search_url(n: int, limit: int = 20, hours: int = 48) -> str:
        now = time.time()
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + hours * 3600))
        return (f"/api/v1/slots/search?from={start}&to={end}&commune={COMMUNES[n % len(COMMUNES)]}"
                f"&radius_km=60&limit={limit}")

    # Warm-up, the same for both: first requests compile templates of SQL, fill caches, import lazily.
    for n in range(20):
        _get(client, "/healthz")
        _get(client, "/readyz")
        _get(client, search_url(n), auth)
    _get(client, report_url, coordination)
    free = [r["slot"]["id"] for r in _get(client, search_url(0, limit=100, hours=24 * 9), auth)["results"]]
    assert len(free) >= counts["bookings"], f"only {len(free)} free slots"
    warm = _post(client, "/api/v1/bookings", _booking(free[0]), auth, 201)  # its cancel frees the slot again
    _post(client, f"/api/v1/bookings/{warm['id']}/cancel", {"reason": "warm-up"}, auth, 200)

    timings: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, calls) -> list:
        answers, times = [], []
        cpu_before = time.process_time()
        for call in calls:
            before = time.perf_counter()
            answers.append(call())
            times.append((time.perf_counter() - before) * 1000)
        cpu[name] = (time.process_time() - cpu_before) * 1000 / len(times)
        timings[name] = times
        return answers

    timed("healthz", (lambda: _get(client, "/healthz") for _ in range(counts["search"])))
    timed("readyz", (lambda: _get(client, "/readyz") for _ in range(counts["search"])))
    urls = [search_url(n) for n in range(counts["search"])]
    found = timed("search", (lambda u=u: _get(client, u, auth) for u in urls))
    assert sum(len(f["results"]) for f in found) > 0
    slots = free[:counts["bookings"]]
    made = timed("book", (lambda s=s: _post(client, "/api/v1/bookings", _booking(s), auth, 201) for s in slots))
    timed("cancel", (lambda b=b: _post(client, f"/api/v1/bookings/{b['id']}/cancel", {"reason": "bench"}, auth, 200)
                     for b in made))
    reports = timed("report", (lambda: _get(client, report_url, coordination) for _ in range(counts["reports"])))
    assert reports[0]["summary"]["offered"] > 0
    return {"package": snp_service.__file__, "build_s": build_s, "timings": timings, "cpu_ms": cpu,
            "offered": reports[0]["summary"]["offered"], "results": statistics.mean(len(f["results"]) for f in found)}


def _token(client, email: str) -> dict:
    return _post(client, "/api/v1/auth/token", {"email": email, "password": PASSWORD}, {}, 200)


def _booking(slot_id: int) -> dict:
    return {"slot_id": slot_id, "patient": PATIENT, "reason": "bench", "channel": "116117", "notify_patient": False}


def _get(client, url: str, headers: dict | None = None):
    answer = client.get(url, headers=headers or {})
    assert answer.status_code == 200, (url, answer.status_code, answer.get_data(as_text=True)[:300])
    return answer.get_json()


def _post(client, url: str, body: dict, headers: dict, status: int):
    answer = client.post(url, json=body, headers=headers)
    assert answer.status_code == status, (url, answer.status_code, answer.get_data(as_text=True)[:300])
    return answer.get_json()


# ---------------------------------------------------------------------------------------------- driver

def run_version(code: Path, database_url: str, counts: dict, workdir: Path) -> dict:
    """One run of ``code`` in its own process (its directory first on the path), on ``database_url``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNP_")}
    env.update(PYTHONPATH=str(code), SNP_INSTANCE_DIR=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    arguments = json.dumps({"url": database_url, "counts": counts})
    result = subprocess.run([PYTHON, __file__, "--run", arguments], cwd=workdir, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"run of {code} failed:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(answer["package"]).resolve().is_relative_to(code.resolve()), (answer["package"], code)
    return answer


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def summarise(label: str, runs: dict[str, list[dict]]) -> str:
    a_runs, b_runs = runs["A"], runs["B"]

    def per_round(version_runs, op, fraction):
        return [percentile(r["timings"][op], fraction) for r in version_runs]

    lines = [f"### {label}", "",
             "| operation | N | A p50 ms | B p50 ms | B/A p50 | A spread | B spread | B/A per pair | "
             "A p95 | B p95 | B/A p95 | CPU ms A | CPU ms B | B/A CPU | A/healthz | B/healthz |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for op in OPERATIONS:
        a50, b50 = per_round(a_runs, op, 0.5), per_round(b_runs, op, 0.5)
        a95, b95 = per_round(a_runs, op, 0.95), per_round(b_runs, op, 0.95)
        ha, hb = per_round(a_runs, "healthz", 0.5), per_round(b_runs, "healthz", 0.5)
        pairs = sorted(b / a for a, b in zip(a50, b50))
        cpu_a, cpu_b = [r["cpu_ms"][op] for r in a_runs], [r["cpu_ms"][op] for r in b_runs]
        ma, mb = statistics.median(a50), statistics.median(b50)
        lines.append(
            f"| {op} | {len(a_runs[0]['timings'][op])} | {ma:.2f} | {mb:.2f} | {mb / ma:.3f} | "
            f"{min(a50):.2f}–{max(a50):.2f} | {min(b50):.2f}–{max(b50):.2f} | "
            f"{pairs[0]:.2f}–{pairs[-1]:.2f} (med {statistics.median(pairs):.3f}) | "
            f"{statistics.median(a95):.2f} | {statistics.median(b95):.2f} | "
            f"{statistics.median(b95) / statistics.median(a95):.3f} | {_spread(cpu_a)} | {_spread(cpu_b)} | "
            f"{statistics.median(cpu_b) / statistics.median(cpu_a):.3f} | "
            f"{statistics.median(x / h for x, h in zip(a50, ha)):.1f} | "
            f"{statistics.median(x / h for x, h in zip(b50, hb)):.1f} |")
    build_a = statistics.median(r["build_s"] for r in a_runs)
    build_b = statistics.median(r["build_s"] for r in b_runs)
    lines += ["", f"Database build (`snp init-db` + `snp demo`, median): A {build_a:.2f} s, B {build_b:.2f} s "
              f"(B/A {build_b / build_a:.3f}); {len(a_runs)} runs each; offered slots in the report: "
              f"{a_runs[0]['offered']} (A), {b_runs[0]['offered']} (B); search results a request: "
              f"{a_runs[0]['results']:.1f} (A), {b_runs[0]['results']:.1f} (B)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, default=Path("/tmp/before21"), help="version A's directory")
    parser.add_argument("--b", type=Path, default=ROOT, help="version B's directory")
    parser.add_argument("--rounds", type=int, default=6, help="runs of each version")
    parser.add_argument("--search", type=int, default=300, help="searches (and baseline requests) a run")
    parser.add_argument("--bookings", type=int, default=100, help="bookings (then cancels) a run")
    parser.add_argument("--reports", type=int, default=50, help="fill-rate reports a run")
    parser.add_argument("--postgresql", action="store_true", help="also on a throwaway PostgreSQL cluster")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:  # inside a version's process
        given = json.loads(args.run)
        print(json.dumps(run_once(given["url"], given["counts"])))
        return
    counts = {"search": args.search, "bookings": args.bookings, "reports": args.reports}
    versions = {"A": args.a, "B": args.b}
    order = [v for n in range(args.rounds) for v in (("A", "B") if n % 2 == 0 else ("B", "A"))]
    print(f"A = {args.a}, B = {args.b}; order {' '.join(order)}; load {os.getloadavg()}", flush=True)
    backends = ["sqlite"] + (["postgresql"] if args.postgresql else [])
    tables = []
    for backend in backends:
        cluster = None
        if backend == "postgresql":
            sys.path.insert(0, str(ROOT))
            from tests.pg_cluster import PgCluster

            cluster = PgCluster().start()
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        try:
            with tempfile.TemporaryDirectory(prefix="ab-versions-") as scratch:
                for n, version in enumerate(order):
                    workdir = Path(scratch) / f"{n:02d}-{version}"
                    workdir.mkdir()
                    if cluster:
                        url = cluster.create_database(f"ab_{n:02d}_{version.lower()}")
                    else:
                        url = f"sqlite:///{workdir / 'snp.sqlite3'}"
                    started = time.perf_counter()
                    result = run_version(versions[version], url, counts, workdir)
                    runs[version].append(result)
                    p50 = {op: percentile(result["timings"][op], 0.5) for op in OPERATIONS}
                    print(f"{backend} run {n + 1}/{len(order)} {version}: "
                          + ", ".join(f"{op} {p50[op]:.2f}" for op in OPERATIONS)
                          + f" ms p50; build {result['build_s']:.1f} s; run {time.perf_counter() - started:.0f} s; "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
        finally:
            if cluster:
                cluster.stop()
        tables.append(summarise(f"{backend}: A = {args.a}, B = {args.b}", runs))
    print()
    print("\n\n".join(tables))
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
