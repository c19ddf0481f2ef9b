"""Sending a slot request in an area of 500 practitioners (issue 23): time in the server, next to the raw SQL.

One CPTS, 500 practitioners scattered within 40 km of the patient's commune, half of them taking requests.
Each request is ``POST /api/v1/slot-requests`` through the Flask test client with a regulator's bearer token
(radius 10, 20 or 30 km in turn: tens to a hundred and more recipients, each a recipient row and an SMS queued,
one audit event), timed inside the WSGI application. Next to it: the raw SQL of finding the recipients (the
statement the service runs, compiled once, executed through the driver). Figures are printed, never asserted.

    python benchmarks/bench_slot_request.py                 # SQLite
    python benchmarks/bench_slot_request.py --postgresql    # a throwaway PostgreSQL 15 cluster
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from snp_service import create_app  # noqa: E402
from snp_service.accounts import passwords, tokens  # noqa: E402
from snp_service.core.extensions import db  # noqa: E402
from snp_service.core.timeutil import to_paris, utcnow  # noqa: E402
from snp_service.models import Commune, Cpts, Practitioner, User  # noqa: E402
from snp_service.requests import sending  # noqa: E402
from tests.pg_cluster import PgCluster  # noqa: E402

PRACTITIONERS = 500
CENTRE = (46.6975, -1.9428)
RADII = (10, 20, 30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def build(app) -> str:
    """The area; the regulator's bearer token."""
    rng = random.Random(23)
    with app.app_context():
        db.create_all()
        cpts = Cpts(name="CPTS bench", population=200_000, regulation_area="Bench",
                    communes=[Commune(insee="85222", name="Saint-Gilles-Croix-de-Vie", lat=CENTRE[0], lon=CENTRE[1])])
        for n in range(PRACTITIONERS):
            distance, bearing = 40 * math.sqrt(rng.random()), rng.random() * 2 * math.pi
            lat = CENTRE[0] + distance * math.cos(bearing) / 111.2
            lon = CENTRE[1] + distance * math.sin(bearing) / (111.2 * math.cos(math.radians(CENTRE[0])))
            db.session.add(Practitioner(rpps=f"{10000000000 + n:011d}", first_name="Alex", last_name=f"Medecin{n}",
                                        phone=f"+336{n:08d}", lat=lat, lon=lon, commune_insee="85222",
                                        takes_requests=n % 2 == 0, cpts=[cpts]))
        regulator = User(email="regulator@bench.example", role="regulator", cpts=[cpts],
                         password_hash=passwords.hash_password("bench-password-long-enough"))
        db.session.add(regulator)
        db.session.commit()
        secret, _ = tokens.issue_token(regulator, timedelta(hours=2))
        return secret


def body(radius: int) -> dict:
    start = to_paris(utcnow() + timedelta(minutes=10)).replace(microsecond=0)
    return {"patient": {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1980-01-01",
                        "phone": "0612345678", "has_treating_doctor": "no"},
            "reason": "fièvre", "channel": "116117", "commune_insee": "85222", "profession": "gp",
            "not_before": start.isoformat(), "not_after": (start + timedelta(hours=4)).isoformat(),
            "radius_km": radius}


def served(app, token: str, requests: int) -> dict[int, list[float]]:
    timings: list[float] = []
    inner = app.wsgi_app

    def timed(environ, start_response):
        started = time.perf_counter()
        answer = b"".join(inner(environ, start_response))
        timings.append((time.perf_counter() - started) * 1000)
        return [answer]

    app.wsgi_app = timed
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    per_radius: dict[int, list[float]] = {r: [] for r in RADII}
    recipients: dict[int, int] = {}
    for n in range(requests + 10):
        radius = RADII[n % len(RADII)]
        response = client.post("/api/v1/slot-requests", json=body(radius), headers=headers)
        assert response.status_code == 201, response.get_json()
        recipients[radius] = response.get_json()["recipients"]
        if n >= 10:  # warm-up
            per_radius[radius].append(timings[-1])
    app.wsgi_app = inner
    return per_radius, recipients


def raw(app, requests: int) -> dict[int, list[float]]:
    per_radius: dict[int, list[float]] = {r: [] for r in RADII}
    with app.app_context():
        cpts_id = db.session.query(Cpts.id).scalar()
        sql = {r: sending.recipients_sql({cpts_id}, "gp", CENTRE, r) for r in RADII}
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for n in range(requests + 10):
                radius = RADII[n % len(RADII)]
                started = time.perf_counter()
                cursor.execute(sql[radius])
                cursor.fetchall()
                if n >= 10:
                    per_radius[radius].append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
    return per_radius


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    cluster = PgCluster().start() if args.postgresql else None
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = cluster.create_database("bench_slot_request") if cluster else f"sqlite:///{Path(directory) / 'b.sqlite3'}"
            app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "SMS_SEND_AFTER_COMMIT": False})
            token = build(app)
            in_server, recipients = served(app, token, args.requests)
            in_sql = raw(app, args.requests)
            print(f"{url.split(':')[0].split('+')[0]}: {PRACTITIONERS} practitioners, "
                  f"{args.requests} requests")
            print(f"{'radius':>8} {'recipients':>10} {'server p50':>11} {'server p95':>11} {'raw SQL p50':>12} "
                  f"{'raw SQL p95':>12}")
            for radius in RADII:
                s, r = in_server[radius], in_sql[radius]
                print(f"{radius:>5} km {recipients[radius]:>10} {statistics.median(s):>8.2f} ms {percentile(s, .95):>8.2f} ms"
                      f" {statistics.median(r):>9.3f} ms {percentile(r, .95):>9.3f} ms")
            every = [t for v in in_server.values() for t in v]
            print(f"all radii: server p95 {percentile(every, .95):.2f} ms")
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
