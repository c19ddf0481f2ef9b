"""Cost of the requests issue 15 (item 2) showed taking a worker down, now refused before the work.

- ``POST /api/v1/slots`` with a block from tomorrow to 2199 in 1-minute slots (was: 70 s, 3.9 GB, then a 500);
- ``POST /api/v1/slots/import?slot_minutes=5`` with a 10 KB .ics of 100 events 118 days long (was: 49 s, 2 GB).

Each request runs once through the test client on a SQLite file; the script prints its status, its
wall time and the peak of Python allocations during it (tracemalloc), and the process's peak RSS.
Figures are printed, never asserted.

    python benchmarks/bench_refused_requests.py
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from snp_service import accounts, create_app
from snp_service.extensions import db
from snp_service.models import Commune, Cpts, Practitioner, User
from snp_service.timeutil import to_paris, utcnow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: the tests' shared .ics samples
from tests.ics_samples import long_events_ics  # noqa: E402


def measure(label: str, send) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    code = (response.get_json() or {}).get("error", {}).get("code")
    print(f"{label:<44} {response.status_code} {code or '':<15} {elapsed * 1000:8.1f} ms   "
          f"peak allocations {peak / 1024:8.0f} KiB")


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"CONFIG_NAME": "testing",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(directory) / 'bench.sqlite3'}"})
        with app.app_context():
            db.create_all()
            cpts = Cpts(name="CPTS bench", population=50_000,
                        communes=[Commune(insee="85222", name="Saint-Gilles", lat=46.7, lon=-1.9)])
            doctor = Practitioner(rpps="10000000001", first_name="A", last_name="B", commune_insee="85222", cpts=[cpts])
            db.session.add_all([cpts, doctor])
            db.session.flush()
            gp = User(email="gp@bench.example", password_hash=accounts.hash_password("bench-password-long"), role="gp",
                      practitioner_id=doctor.id, cpts=[cpts])
            db.session.add(gp)
            db.session.commit()
            secret, _token = accounts.issue_token(gp, timedelta(hours=1))
            headers = {"Authorization": f"Bearer {secret}"}
            client = app.test_client()
            tomorrow = to_paris(utcnow() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
            block = {"block": {"start": tomorrow.isoformat(), "end": tomorrow.replace(year=2199).isoformat(),
                               "slot_minutes": 1}}
            ics = long_events_ics()
            measure("block tomorrow -> 2199, 1-minute slots", lambda: client.post("/api/v1/slots", json=block,
                                                                                 headers=headers))
            measure(f".ics {len(ics) / 1000:.1f} kB, 100 x 118 days, 5 minutes",
                    lambda: client.post("/api/v1/slots/import?slot_minutes=5", data=ics,
                                        content_type="text/calendar", headers=headers))
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
