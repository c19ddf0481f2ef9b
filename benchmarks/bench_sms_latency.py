"""Booking latency does not depend on Twilio (issue 5). Prints figures, asserts nothing.

A fake Twilio on 127.0.0.1 answers every send after ``--delay`` seconds (2 s by
default). Bookings go through ``POST /api/v1/bookings`` (Flask test client,
bearer token, SQLite file): first with after-commit sending off (nothing is
sent: the baseline, which also takes the warm-up), then on (the production
default: a sender thread wakes after each commit). Then it waits for the
sender thread to deliver every confirmation and counts distinct recipients.

    .venv/bin/python benchmarks/bench_sms_latency.py [--bookings 10] [--delay 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from snp_service import create_app  # noqa: E402
from snp_service.core.extensions import db  # noqa: E402
from snp_service.core.timeutil import utcnow  # noqa: E402
from tests.factories import World  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402

PATIENT = {"first_name": "Bench", "last_name": "Patient", "birth_date": "1970-05-05",
           "has_treating_doctor": "no"}


def book_many(app, fake: FakeTwilio, count: int, after_commit: bool, first_phone: int) -> list[float]:
    app.config["SMS_SEND_AFTER_COMMIT"] = after_commit
    with app.app_context():
        world = World()
        practitioner = world.practitioner(world.cpts())
        practitioner.phone = None  # one SMS per booking: the patient's confirmation
        db.session.commit()
        start = utcnow() + timedelta(days=1)
        slot_ids = [world.slot(practitioner, start=start + timedelta(minutes=20 * i)).id for i in range(count)]
        headers = world.headers(world.user("regulator", practitioner.cpts[0]))
    client = app.test_client()
    latencies = []
    for i, slot_id in enumerate(slot_ids):
        payload = {"slot_id": slot_id, "channel": "116117", "notify_patient": True,
                   "patient": {**PATIENT, "phone": f"+336{first_phone + i:08d}"}}
        started = time.perf_counter()
        answer = client.post("/api/v1/bookings", json=payload, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 201, answer.get_data(as_text=True)
    return latencies


def describe(label: str, latencies: list[float]) -> None:
    print(f"{label:<34} n={len(latencies):<3} median {statistics.median(latencies):7.1f} ms   "
          f"max {max(latencies):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the fake Twilio takes to answer")
    args = parser.parse_args()

    fake = FakeTwilio(delay=args.delay).start()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "RATELIMIT_ENABLED": False, **fake.config()})
        with app.app_context():
            db.create_all()
        print(f"fake Twilio answers after {args.delay:.1f} s; {args.bookings} bookings per run (SQLite)")
        describe("booking, sending OFF (baseline)", book_many(app, fake, args.bookings, False, 20_000_000))
        describe("booking, after-commit sending ON", book_many(app, fake, args.bookings, True, 10_000_000))

        started = time.perf_counter()
        deadline = started + args.bookings * (args.delay + 1) + 10
        while len(fake.messages) < args.bookings and time.perf_counter() < deadline:
            time.sleep(0.05)
        sent_to = [m["to"] for m in fake.messages]
        print(f"sender thread delivered {len(sent_to)}/{args.bookings} confirmations "
              f"({len(set(sent_to))} distinct numbers), last one {time.perf_counter() - started:.1f} s "
              f"after the last booking answered")
        with app.app_context():
            db.engine.dispose()
    fake.stop()


if __name__ == "__main__":
    main()
