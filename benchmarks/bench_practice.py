"""How long entering the practice space (or starting a scripted caller) takes: building the trainee's practice
database from a real area of N practitioners (schema, copy of the area, a three-day agenda) and arranging a scenario.

    python benchmarks/bench_practice.py --practitioners 500 --rounds 5
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.models import Commune, Cpts, Practitioner, User
from snp_service.practice import scenarios, space


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practitioners", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="snp-practice-bench-"))
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'real.sqlite3'}",
                      "PRACTICE_DIR": str(folder / "practice")})
    with app.app_context():
        db.create_all()
        cpts = Cpts(name="CPTS banc", population=100_000, regulation_area="Banc",
                    communes=[Commune(insee="85222", name="Saint-Gilles-Croix-de-Vie", lat=46.6975, lon=-1.9428)])
        db.session.add(cpts)
        for n in range(args.practitioners):
            db.session.add(Practitioner(rpps=f"{10_000_000_000 + n:011d}", first_name="Alex", last_name=f"Medecin{n}",
                                        profession="gp", commune_insee="85222", lat=46.6975 + n * 1e-4, lon=-1.9428,
                                        cpts=[cpts]))
        user = User(email="trainee@bench.example", password_hash="x", role="regulator", cpts=[cpts])
        db.session.add(user)
        db.session.commit()
        timings = []
        for _ in range(args.rounds):
            with app.test_request_context():
                started = time.perf_counter()
                facts = space.rebuild_and_bind(app, user, {cpts.id})
                scenarios.arrange(scenarios.BY_NUMBER[1], space.engine_for(app, user.id), facts["practitioner_ids"],
                                  {cpts.id})
                timings.append((time.perf_counter() - started) * 1000)
    print(f"practice build + scenario 1, area of {args.practitioners} practitioners, {args.rounds} rounds: "
          f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms")


if __name__ == "__main__":
    main()
