"""Publishing and the iCalendar feed (SPEC section 6): a 500-slot season series ≤ 150 ms, a 1,000-slot feed ≤ 100 ms.

Times the service calls (what a request spends besides HTTP parsing) and the
same work through the test client, median and max of repeated runs. Each
series run publishes for a fresh practitioner of a CPTS that already holds
other practitioners' slots, so the overlap check reads a real index.
Figures are printed, never asserted.

    python benchmarks/bench_publish.py                # SQLite file
    python benchmarks/bench_publish.py --postgresql   # throwaway PostgreSQL cluster
    python benchmarks/bench_publish.py --quick        # fewer runs
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, time as clock, timedelta

from region_data import throwaway_database

from snp_service import accounts, calendar_feed, create_app, publishing
from snp_service.extensions import db
from snp_service.models import Booking, Commune, Cpts, Patient, Practitioner, Slot, User
from snp_service.timeutil import PARIS, paris_today, utcnow

# Monday to Friday, one 150-minute block of 15-minute slots, 50 days: 500 slots over ten weeks.
SEASON_SERIES = {"block_minutes": 150, "slot_minutes": 15, "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=50"}
FEED_SLOTS = 1000


def median_max(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:7.1f} ms   max {max(samples) * 1000:7.1f} ms   (n={len(samples)})"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def make_practitioner(cpts: Cpts, n: int) -> Practitioner:
    practitioner = Practitioner(rpps=f"{20000000000 + n:011d}", first_name="Bench", last_name=f"Medecin{n}", cpts=[cpts])
    db.session.add(practitioner)
    db.session.commit()
    return practitioner


def background_slots(practitioners: list[Practitioner]) -> None:
    """Other GPs' slots over the season: the index the overlap check reads is not empty."""
    first_day = paris_today() + timedelta(days=1)
    for practitioner in practitioners:
        for day in range(70):
            start = datetime.combine(first_day + timedelta(days=day), clock(9), PARIS)
            db.session.add_all(Slot(practitioner_id=practitioner.id, start_at=start + timedelta(minutes=15 * i),
                                    end_at=start + timedelta(minutes=15 * (i + 1))) for i in range(8))
    db.session.commit()


def bench_series(app, cpts: Cpts, coordinator: User, runs: int) -> None:
    first_start = datetime.combine(paris_today() + timedelta(days=1), clock(14))
    service, http = [], []
    client = app.test_client()
    headers = {"Authorization": f"Bearer {accounts.issue_token(coordinator, timedelta(hours=1))[0]}"}
    for run in range(runs):
        practitioner = make_practitioner(cpts, 1000 + run)
        request = {"series": dict(SEASON_SERIES, first_start=first_start)}
        slots = []
        service.append(timed(lambda: slots.extend(publishing.publish_request(coordinator, practitioner, request))))
        assert len(slots) == 500
        other = make_practitioner(cpts, 5000 + run)
        body = {"practitioner_id": other.id, "series": dict(SEASON_SERIES, first_start=first_start.isoformat())}
        http.append(timed(lambda: client.post("/api/v1/slots", json=body, headers=headers).close()))
    print(f"publish 500-slot series, service call      {median_max(service)}")
    print(f"publish 500-slot series, POST /api/v1/slots {median_max(http)}")


def bench_feed(app, cpts: Cpts, runs: int) -> None:
    practitioner = make_practitioner(cpts, 9999)
    rng = random.Random(1)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=25)
    for n in range(FEED_SLOTS):
        begin = start + timedelta(hours=3 * n)
        slot = Slot(practitioner_id=practitioner.id, start_at=begin, end_at=begin + timedelta(minutes=15),
                    status="booked" if rng.random() < 0.3 else "free")
        db.session.add(slot)
        if slot.status == "booked":
            db.session.add(Booking(slot=slot, channel="116117", patient=Patient(first_name="Jeanne", last_name="Durand")))
    db.session.commit()
    token = practitioner.calendar_token
    client = app.test_client()
    body = calendar_feed.feed_for_token(token)
    assert body.count(b"BEGIN:VEVENT") == FEED_SLOTS, body.count(b"BEGIN:VEVENT")
    service = [timed(lambda: calendar_feed.feed_for_token(token)) for _ in range(runs)]
    http = [timed(lambda: client.get(f"/calendar/{token}.ics").close()) for _ in range(runs)]
    print(f"feed of {FEED_SLOTS} slots, service call            {median_max(service)}   ({len(body) // 1024} KiB)")
    print(f"feed of {FEED_SLOTS} slots, GET /calendar/<token>   {median_max(http)}")


def bench(url: str, runs: int) -> None:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        cpts = Cpts(name="CPTS bench", population=60_000,
                    communes=[Commune(insee="85222", name="Saint-Gilles-Croix-de-Vie", lat=46.7, lon=-1.94)])
        db.session.add(cpts)
        db.session.commit()
        coordinator = accounts.create_user("bench", email="coord@bench.example", password="bench-password-123",
                                           role="coordinator", cpts_ids=[cpts.id])
        background_slots([make_practitioner(cpts, n) for n in range(20)])
        bench_series(app, cpts, coordinator, runs)
        bench_feed(app, cpts, runs)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 21")
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL instead of SQLite")
    args = parser.parse_args()
    runs = 5 if args.quick else 21
    with throwaway_database("snp-bench-publish", args.postgresql) as url:
        bench(url, runs)


if __name__ == "__main__":
    main()
