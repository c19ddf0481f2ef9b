"""Publishing and the iCalendar feed (SPEC section 6) at 1× and 4×: a 500-slot series ≤ 150 ms, a 1,000-slot feed ≤ 100 ms.

Times the service calls (what a request spends besides HTTP parsing) and the
same work through the test client, median and max of repeated runs, inside each
scale's region: each series run publishes for a fresh practitioner of the first
CPTS, so the overlap check (the exclusion constraint on PostgreSQL, the triggers
on SQLite) reads the region's real index; the feed is one practitioner's 1,000
slots among the region's. The scales take turns run by run. The SPEC sets these
two figures absolutely, with no growth target. Figures are printed, never asserted.

    python benchmarks/bench_publish.py                # SQLite, 1× and 4×
    python benchmarks/bench_publish.py --postgresql   # the benchmarks' PostgreSQL cluster
    python benchmarks/bench_publish.py --quick        # a tenth of the data, fewer runs
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, time as clock, timedelta

from region_cache import regions
from scaling import NO_GROWTH_TARGET, ScaleTable, add_scale_options, in_turns

from snp_service import create_app
from snp_service.accounts import tokens
from snp_service.core.extensions import db
from snp_service.core.timeutil import paris_today, utcnow
from snp_service.models import Booking, Cpts, Patient, Practitioner, Slot, User
from snp_service.slots import calendar_feed, publishing

# Monday to Friday, one 150-minute block of 15-minute slots, 50 days: 500 slots over ten weeks.
SEASON_SERIES = {"block_minutes": 150, "slot_minutes": 15, "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=50"}
FEED_SLOTS = 1000


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


class Publisher:
    """One scale's region: its first CPTS, that CPTS's coordinator, fresh practitioners to publish for."""

    def __init__(self, built):
        self.app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": built.url})
        self.client = self.app.test_client()
        self.cpts_id = built.summary["cpts_ids"][0]
        self.coordinator_email = built.summary["coordinator_emails"][self.cpts_id]
        with self.app.app_context():
            coordinator = self._coordinator()
            self.headers = {"Authorization": f"Bearer {tokens.issue_token(coordinator, timedelta(hours=2))[0]}"}
            self.feed_token = self._feed_practitioner()

    def _coordinator(self) -> User:
        return db.session.query(User).filter_by(email=self.coordinator_email).one()

    def _practitioner(self, n: int) -> Practitioner:
        practitioner = Practitioner(rpps=f"{20000000000 + n:011d}", first_name="Bench", last_name=f"Medecin{n}",
                                    cpts=[db.session.get(Cpts, self.cpts_id)])
        db.session.add(practitioner)
        db.session.commit()
        return practitioner

    def _feed_practitioner(self) -> str:
        practitioner = self._practitioner(9999)
        rng = random.Random(1)
        start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=25)
        for n in range(FEED_SLOTS):
            begin = start + timedelta(hours=3 * n)
            slot = Slot(practitioner_id=practitioner.id, start_at=begin, end_at=begin + timedelta(minutes=15),
                        status="booked" if rng.random() < 0.3 else "free")
            db.session.add(slot)
            if slot.status == "booked":
                db.session.add(Booking(slot=slot, channel="116117",
                                       patient=Patient(first_name="Jeanne", last_name="Durand")))
        db.session.commit()
        token = practitioner.calendar_token
        body = calendar_feed.feed_for_token(token)
        assert body.count(b"BEGIN:VEVENT") == FEED_SLOTS, body.count(b"BEGIN:VEVENT")
        return token

    def series(self, run: int) -> dict[str, float]:
        first_start = datetime.combine(paris_today() + timedelta(days=1), clock(14))
        with self.app.app_context():
            coordinator, practitioner = self._coordinator(), self._practitioner(1000 + run)
            slots = []
            service = timed(lambda: slots.extend(publishing.publish_request(
                coordinator, practitioner, {"series": dict(SEASON_SERIES, first_start=first_start)})))
            assert len(slots) == 500
            other = self._practitioner(5000 + run)
            body = {"practitioner_id": other.id, "series": dict(SEASON_SERIES, first_start=first_start.isoformat())}
            http = timed(lambda: self.client.post("/api/v1/slots", json=body, headers=self.headers).close())
            db.session.remove()
        return {"service": service, "http": http}

    def feed(self, _run: int) -> dict[str, float]:
        with self.app.app_context():
            service = timed(lambda: calendar_feed.feed_for_token(self.feed_token))
            http = timed(lambda: self.client.get(f"/calendar/{self.feed_token}.ics").close())
            db.session.remove()
        return {"service": service, "http": http}

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_options(parser)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--runs", type=int, help="runs per figure and scale (default 21, 5 with --quick)")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 21)
    table = ScaleTable(f"Publishing and feed, {'PostgreSQL' if args.postgresql else 'SQLite'}", args.scales)
    with regions(args.scales, args.postgresql, quick=args.quick, rebuild=args.rebuild) as built:
        publishers = {scale: Publisher(b) for scale, b in built.items()}
        series = in_turns({s: p.series for s, p in publishers.items()}, runs)
        feed = in_turns({s: p.feed for s, p in publishers.items()}, runs)
        for publisher in publishers.values():
            publisher.close()
    for label, measured, target in (("500-slot series", series, "≤ 150 ms"), (f"{FEED_SLOTS:,}-slot feed", feed,
                                                                             "≤ 100 ms")):
        for part, how in (("service", "service call"), ("http", "through the test client")):
            values = {s: statistics.median(r[part] for r in rounds) for s, rounds in measured.items()}
            table.add(f"{label}, {how}: median", values, "ms", NO_GROWTH_TARGET, target if part == "service" else "")
            table.add(f"{label}, {how}: max", {s: max(r[part] for r in rounds) for s, rounds in measured.items()},
                      "ms", NO_GROWTH_TARGET)
    table.note(f"{runs} runs per figure and scale; the first CPTS of each region, which holds the same slots at every scale")
    table.print_and_keep()


if __name__ == "__main__":
    main()
