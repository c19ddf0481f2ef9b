"""Issue 15, item 4: an unreachable database answers 503 with Retry-After, never 500, and the service
recovers by itself when the database is back (SPEC section 8).

PostgreSQL: a cluster of this test's own (the session's one serves the other tests) is stopped
mid-test, as an outage would, then started again. SQLite: the database file becomes unreachable
(its directory replaced by a plain file), then comes back.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from datetime import timedelta

import pytest

from snp_service import create_app
from snp_service.core.extensions import db

from .conftest import TEST_DB, need
from .factories import PASSWORD, World
from .pg_cluster import PgCluster, PostgresUnavailable

API = "/api/v1"


def _login(client, email):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})


class Probe:
    """The requests a worker keeps receiving during an outage: API reads and writes, a page, the probes."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            db.create_all()
            world = World()
            cpts = world.cpts()
            gp = world.gp(cpts)
            self.slot_ids = [world.slot(gp.practitioner, start=world_start(i)).id for i in range(3)]
            regulator = world.user("regulator", cpts)
            self.headers = world.headers(regulator)
            self.email = regulator.email
        self.api = app.test_client()
        self.page = app.test_client()
        _login(self.page, self.email)
        self.statuses: list[int] = []

    def _record(self, response):
        self.statuses.append(response.status_code)
        return response

    def bookings(self):
        return self._record(self.api.get(f"{API}/bookings", headers=self.headers))

    def book(self, slot_id):
        return self._record(self.api.post(f"{API}/bookings", headers=self.headers, json={
            "slot_id": slot_id, "channel": "116117", "reason": "test", "notify_patient": False,
            "patient": {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1950-01-01",
                        "phone": "+33612345678"}}))

    def console(self):
        return self._record(self.page.get("/regulation", headers={"Accept": "text/html"}))

    def ready(self):
        return self._record(self.api.get("/readyz"))

    def database_up(self) -> str:
        metrics = self._record(self.api.get("/metrics"))
        assert metrics.status_code == 200
        return re.search(r"^snp_database_up (\S+)$", metrics.get_data(as_text=True), re.M).group(1)

    def check_unavailable(self):
        for response in (self.bookings(), self.book(self.slot_ids[1])):
            assert response.status_code == 503, response.get_data(as_text=True)[:300]
            assert response.headers["Retry-After"].isdigit()
            assert response.get_json()["error"]["code"] == "database_unavailable"
        page = self.console()
        assert page.status_code == 503 and page.mimetype == "text/html"
        assert page.headers["Retry-After"].isdigit()
        assert "Service momentanément indisponible" in page.get_data(as_text=True)
        assert self.ready().status_code == 503
        assert self._record(self.api.get("/healthz")).status_code == 200  # alive, not ready
        assert self.database_up() == "0.0"  # /metrics still answers, and says so (issue 27)

    def wait_for_recovery(self) -> int:
        """Requests until the API answers again (bounded): the pool drops the dead connections itself."""
        for attempt in range(1, 51):
            if self.bookings().status_code == 200:
                return attempt
            time.sleep(0.1)
        pytest.fail(f"no recovery after 50 requests: {self.statuses[-5:]}")

    def check_recovered(self):
        assert self.book(self.slot_ids[2]).status_code == 201
        assert self.console().status_code == 200
        assert self.ready().status_code == 200
        assert self.database_up() == "1.0"
        assert 500 not in self.statuses, self.statuses


def world_start(i: int):
    from snp_service.core.timeutil import utcnow

    return utcnow().replace(second=0, microsecond=0) + timedelta(days=1, hours=i)


@pytest.mark.skipif(TEST_DB != "postgresql", reason="the PostgreSQL pass runs it, on a cluster of its own")
def test_postgresql_outage_is_503_and_recovers_by_itself():
    try:
        cluster = PgCluster().start()
    except PostgresUnavailable as error:
        need(f"PostgreSQL unavailable: {error}")
    try:
        app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": cluster.create_database("snp_outage")})
        probe = Probe(app)
        assert probe.bookings().status_code == 200 and probe.console().status_code == 200
        assert probe.book(probe.slot_ids[0]).status_code == 201

        cluster.halt()
        probe.check_unavailable()
        probe.check_unavailable()  # and again: nothing is left broken by the first failure

        cluster.resume()
        probe.wait_for_recovery()
        probe.check_recovered()
        with app.app_context():
            db.engine.dispose()
    finally:
        cluster.stop()


@pytest.mark.skipif(TEST_DB != "sqlite", reason="the SQLite pass runs it")
def test_sqlite_file_unreachable_is_503_and_recovers(tmp_path):
    directory = tmp_path / "data"
    directory.mkdir()
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'snp.sqlite3'}"})
    probe = Probe(app)
    assert probe.book(probe.slot_ids[0]).status_code == 201

    # The directory disappears (an unmounted volume): a new connection cannot open the file. Open
    # connections would keep their file handle, so the pool is emptied as a restarted worker's would be.
    os.rename(directory, tmp_path / "away")
    (tmp_path / "data").write_text("not a directory")
    with app.app_context():
        db.engine.dispose()
    probe.check_unavailable()

    (tmp_path / "data").unlink()
    os.rename(tmp_path / "away", directory)
    probe.wait_for_recovery()
    probe.check_recovered()
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(directory, ignore_errors=True)
