"""Two regulators, one slot: the database decides, through real HTTP and real threads."""
from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlparse

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Booking, Slot

THREADS = 50
SLOTS = 10


def _post(base_url: str, path: str, body: dict, headers: dict) -> tuple[int, dict]:
    url = urlparse(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _booking(slot_id: int, n: int) -> dict:
    return {"slot_id": slot_id, "channel": "116117", "notify_patient": False,
            "patient": {"first_name": "Appel", "last_name": f"Numéro{n}", "birth_date": "1980-01-01",
                        "phone": "0612345678", "has_treating_doctor": "unknown"}}


def test_fifty_threads_on_ten_slots_make_exactly_ten_bookings(live_server, world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts)
    slot_ids = [world.slot(doctor, utcnow() + timedelta(hours=2, minutes=20 * i)).id for i in range(SLOTS)]
    regulators = [world.headers(world.user("regulator", cpts)) for _ in range(5)]
    barrier = threading.Barrier(THREADS)

    def attempt(n: int) -> tuple[int, dict]:
        barrier.wait()
        return _post(live_server, "/api/v1/bookings", _booking(slot_ids[n % SLOTS], n), regulators[n % len(regulators)])

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(attempt, range(THREADS)))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: SLOTS, 409: THREADS - SLOTS}, statuses
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"slot_unavailable"}
    won = sorted(body["slot_id"] for status, body in answers if status == 201)
    assert won == sorted(slot_ids)
    db.session.expire_all()
    assert db.session.query(Booking).filter_by(status="booked").count() == SLOTS
    assert {s.status for s in db.session.query(Slot)} == {"booked"}


def test_concurrent_retries_with_one_idempotency_key_make_one_booking(live_server, world):
    cpts = world.cpts()
    slot = world.slot(world.practitioner(cpts))
    headers = world.headers(world.user("regulator", cpts)) | {"Idempotency-Key": "retry-after-timeout"}
    barrier = threading.Barrier(8)

    def attempt(n: int) -> tuple[int, dict]:
        barrier.wait()
        return _post(live_server, "/api/v1/bookings", _booking(slot.id, 0), headers)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))

    assert {status for status, _ in answers} <= {200, 201}
    assert len({body["id"] for _, body in answers}) == 1
    assert db.session.query(Booking).count() == 1
