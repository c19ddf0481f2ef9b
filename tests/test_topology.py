"""The production topology of deploy/, started on 127.0.0.1 and hurt (issue 15, item 11 and "What to build").

nginx (deploy/nginx/snp.conf, TLS) in front of two gunicorn instances (deploy/systemd/snp-web@.service)
on one PostgreSQL, two scheduler processes (snp-scheduler.service: one leader), the schema made by
snp-migrate.service. Every process runs its unit's ExecStart with only ports and paths changed.

1. Wrong passwords sent through nginx land on both instances and count together.
2. A bounded booking load (300 attempts over 150 slots, 16 threads) through nginx; one instance's
   gunicorn master is SIGKILLed mid-load, one of its workers held (SIGSTOP) as if busy with a long
   request. Its free workers must die with it (PR_SET_PDEATHSIG); what is left of the unit is killed
   as systemd's KillMode=mixed does once the main process is gone; the instance must restart on the
   same port, and nginx must send the rest to the other instance.
3. Every acknowledged booking is in the database, none is doubled, no 5xx outside the kill window;
   the scheduler's jobs ran once per tick, all by one leader.
4. /metrics of both instances (issue 27): the booking counters of the two instances (their workers added up)
   equal the bookings each served since it started, the outbox gauges come back to 0 once the scheduler has
   sent the SMS, and /metrics is refused to any other address, through nginx or directly.

The figures are printed (``pytest -s``) and written to test-output/topology.json.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from itertools import count

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Booking, JobRun, SignInAttempt

from .conftest import TEST_DB, need
from .deploy_config import (REPO, UnitProcess, answers, children, is_running, nginx_available, nginx_site,
                            self_signed_certificate, unit, wait_until)
from .factories import PASSWORD, World
from .fake_twilio import FakeTwilio
from .nginx import Nginx, free_port

pytestmark = pytest.mark.postgres_only

ATTEMPTS, THREADS, SLOTS, KILL_AFTER = 300, 16, 150, 90
ACCOUNT_LIMIT = 8
JOB_TICK_SECONDS = 2
WRONG = "pas-le-bon-mot-de-passe"


class Topology:
    def __init__(self, pg_cluster, tmp_path, twilio: FakeTwilio):
        self.tmp = tmp_path
        self.database_url = pg_cluster.create_database("snp_topology")
        self.ports = (free_port(), free_port())
        self.https_port = free_port()
        self.certificate = self_signed_certificate(tmp_path / "tls")
        self.base = f"https://127.0.0.1:{self.https_port}"
        self.env = {
            "SNP_CONFIG": "production", "SNP_SECRET_KEY": "t" * 48, "SNP_DATABASE_URL": self.database_url,
            "SNP_PUBLIC_URL": self.base, "SNP_INSTANCE_DIR": str(tmp_path / "instance"),
            "SNP_SMS_SEND_AFTER_COMMIT": "false",  # the scheduler's send_outbox job sends them
            "SNP_RATELIMIT_LOGIN_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
            "SNP_RATELIMIT_LOGIN_PER_ADDRESS": "1000 per 15 minutes",
            "SNP_REQUIRE_SECOND_FACTOR": "false",  # its regulators get API tokens with a password alone
            "SNP_SCHEDULER_JOB_INTERVAL_SECONDS": str(JOB_TICK_SECONDS), "SNP_SCHEDULER_LEADER_RETRY_SECONDS": "0.5",
            "WEB_CONCURRENCY": "2",
            **{f"SNP_{key}" if key.startswith(("SMS_", "TWILIO_BASE")) else key: value
               for key, value in twilio.config().items()},
        }
        self.processes: list[UnitProcess] = []
        self.nginx: Nginx | None = None

    def unit(self, name: str, instance: str = "", label: str = "") -> UnitProcess:
        label = label or name.split(".")[0].replace("@", f"-{instance}")
        env = dict(self.env, SNP_ACCESS_LOG=str(self.tmp / f"{label}.access.log"))
        process = UnitProcess(name, instance=instance, env=env, log_path=self.tmp / f"{label}.log")
        self.processes.append(process)
        return process.start()

    def web(self, index: int, label: str = "") -> UnitProcess:
        return self.unit("snp-web@.service", str(self.ports[index]), label or f"web-{index}")

    def access_lines(self, label: str, text: str) -> int:
        path = self.tmp / f"{label}.access.log"
        return sum(text in line for line in path.read_text().splitlines()) if path.exists() else 0

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for process in self.processes:
            process.stop()


@pytest.fixture
def topology(pg_cluster, tmp_path):
    if TEST_DB != "postgresql" or pg_cluster is None:
        pytest.skip("the production topology runs in the PostgreSQL pass (SNP_TEST_DB=postgresql)")
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    twilio = FakeTwilio().start()
    topology = Topology(pg_cluster, tmp_path, twilio)
    try:
        yield topology
    finally:
        topology.stop()
        twilio.stop()


def _seed(topology) -> dict:
    """Accounts and 150 free slots, written through the app in this process (production settings)."""
    app = create_app({"CONFIG_NAME": "production", "SECRET_KEY": topology.env["SNP_SECRET_KEY"],
                      "SQLALCHEMY_DATABASE_URI": topology.database_url, "SMS_BACKEND": "twilio"})
    with app.app_context():
        world = World()
        cpts = world.cpts(regulation_area="Vendée littoral")
        practitioners = [world.practitioner(cpts) for _ in range(10)]
        first = utcnow().replace(second=0, microsecond=0) + timedelta(days=1)
        slots = [world.slot(practitioners[n % 10], first + timedelta(minutes=15 * (n // 10))).id for n in range(SLOTS)]
        regulators = [world.user("regulator", cpts).email for _ in range(4)]
        target = world.user("regulator", cpts).email
        db.session.remove()
    return {"app": app, "slots": slots, "regulators": regulators, "target": target}


def _session(topology) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE (or a proxy) from the environment would override ours
    session.verify = str(topology.certificate)
    return session


def test_two_instances_behind_nginx_keep_every_booking_through_a_master_kill(topology):
    migrate = topology.unit("snp-migrate.service")
    assert migrate.process.wait(timeout=60) == 0, migrate.log()
    for name in ("snp-web@.service", "snp-scheduler.service"):
        assert unit(name)["Restart"] == ["always"], f"{name} must restart whatever ends it"
    world = _seed(topology)
    webs = [topology.web(0), topology.web(1)]
    schedulers = [topology.unit("snp-scheduler.service", label="scheduler-1"),
                  topology.unit("snp-scheduler.service", label="scheduler-2")]
    site = nginx_site(topology.ports, free_port(), topology.https_port, topology.tmp / "tls", topology.tmp,
                      topology.tmp)
    topology.nginx = Nginx(site).start(wait_for_port=topology.https_port)
    for index, web in enumerate(webs):
        wait_until(lambda: answers(f"http://127.0.0.1:{topology.ports[index]}/readyz") or not web.alive(), 40,
                   f"web instance {index}")
        assert web.alive(), web.log()

    figures = {"throttle": _throttle_counts_across_instances(topology, world)}
    figures |= _booking_load_with_a_master_kill(topology, world, webs)
    figures["jobs"] = _jobs_ran_once(world["app"], schedulers)
    figures["metrics"] = _metrics_add_up(topology, world)

    (REPO / "test-output").mkdir(exist_ok=True)
    (REPO / "test-output" / "topology.json").write_text(json.dumps(figures, indent=2, default=str))
    print("\ntopology:", json.dumps(figures, indent=2, default=str))


def _throttle_counts_across_instances(topology, world) -> dict:
    session = _session(topology)
    before = [topology.access_lines(f"web-{i}", "POST /api/v1/auth/token") for i in (0, 1)]
    codes = [session.post(f"{topology.base}/api/v1/auth/token", json={"email": world["target"], "password": WRONG},
                          timeout=30).status_code for _ in range(ACCOUNT_LIMIT)]
    right = session.post(f"{topology.base}/api/v1/auth/token", json={"email": world["target"], "password": PASSWORD},
                         timeout=30)

    def served_by_each():
        # gunicorn writes a request's access-log line after its answer has gone: wait for all of them.
        lines = [topology.access_lines(f"web-{i}", "POST /api/v1/auth/token") - before[i] for i in (0, 1)]
        return lines if sum(lines) >= ACCOUNT_LIMIT + 1 else None

    served = wait_until(served_by_each, 10, "the access-log lines of every sign-in attempt")
    with world["app"].app_context():
        counted = db.session.scalar(select(func.count()).select_from(SignInAttempt))
        db.session.remove()
    assert codes == [401] * ACCOUNT_LIMIT
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert all(served) and sum(served) == ACCOUNT_LIMIT + 1, served  # both instances took part
    assert counted == ACCOUNT_LIMIT
    return {"wrong_passwords": ACCOUNT_LIMIT, "served_by_instance": served, "counted_in_database": counted,
            "right_password_after": right.status_code}


def _booking_load_with_a_master_kill(topology, world, webs) -> dict:
    tokens = []
    for email in world["regulators"]:
        answer = _session(topology).post(f"{topology.base}/api/v1/auth/token",
                                         json={"email": email, "password": PASSWORD}, timeout=30)
        assert answer.status_code == 200, answer.text
        tokens.append(answer.json()["token"])
    results, done, lock = [], count(1), threading.Lock()
    kill_now, kill = threading.Event(), {}
    local = threading.local()

    def attempt(n: int) -> None:
        if not hasattr(local, "session"):
            local.session = _session(topology)
        body = {"slot_id": world["slots"][n % SLOTS], "channel": "116117", "patient": {
            "first_name": "Jeanne", "last_name": "Durand", "birth_date": str(date(1950, 1, 1) + timedelta(days=n)),
            "phone": f"+3361{n:07d}"}}
        started = time.monotonic()
        try:
            answer = local.session.post(f"{topology.base}/api/v1/bookings", json=body, timeout=30,
                                        headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"})
            status, booking_id = answer.status_code, (answer.json().get("id") if answer.status_code == 201 else None)
        except requests.RequestException as error:
            status, booking_id = type(error).__name__, None
        with lock:
            results.append({"n": n, "slot": body["slot_id"], "status": status, "id": booking_id,
                            "started": started, "finished": time.monotonic()})
        if next(done) == KILL_AFTER:
            kill_now.set()

    killer = threading.Thread(target=_kill_and_restart, args=(topology, webs, kill_now, kill))
    killer.start()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(attempt, range(ATTEMPTS)))
    killer.join(timeout=60)
    assert kill.get("done"), kill

    # The restarted instance is back in nginx's rotation once its 5 s of disgrace are over.
    served_before = topology.access_lines("web-0-restarted", "GET /readyz")
    time.sleep(5)
    probe = _session(topology)
    for _ in range(12):
        assert probe.get(f"{topology.base}/readyz", timeout=10).status_code == 200
    restarted_served = topology.access_lines("web-0-restarted", "GET /readyz") - served_before

    acknowledged = {r["id"] for r in results if r["status"] == 201}
    # From the kill until the last orphan is gone (its queued connections are reset then), plus a second.
    window = (kill["at"], kill["orphans_gone_at"] + 1.0)
    errors = [r for r in results if not (isinstance(r["status"], int) and r["status"] < 500)]
    in_window = [r for r in errors if r["finished"] >= window[0] and r["started"] <= window[1]]
    with world["app"].app_context():
        rows = db.session.execute(select(Booking.id, Booking.slot_id, Booking.status)).all()
        db.session.remove()
    present = {row.id for row in rows}
    active_per_slot: dict[int, int] = {}
    for row in rows:
        if row.status == "booked":
            active_per_slot[row.slot_id] = active_per_slot.get(row.slot_id, 0) + 1

    assert acknowledged and acknowledged <= present, f"{len(acknowledged - present)} acknowledged bookings lost"
    assert all(n == 1 for n in active_per_slot.values()), "a slot booked twice"
    assert len(acknowledged) <= SLOTS
    assert errors == in_window, [e for e in errors if e not in in_window]
    assert restarted_served > 0, "the restarted instance never served through nginx"
    statuses: dict = {}
    for r in results:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    return {"load": {
        "attempts": ATTEMPTS, "threads": THREADS, "slots": SLOTS, "statuses": statuses,
        "acknowledged": len(acknowledged), "acknowledged_present": len(acknowledged & present),
        "bookings_in_database": len(present), "committed_unacknowledged": len(present - acknowledged),
        "slots_booked_twice": sum(n > 1 for n in active_per_slot.values()),
        "errors_during_kill_window": len(in_window), "errors_outside_kill_window": len(errors) - len(in_window),
        "kill_window_seconds": round(window[1] - window[0], 2),
        "restarted_instance_served_through_nginx": restarted_served,
    }, "master_kill": {k: v for k, v in kill.items() if k not in {"at", "orphans_gone_at", "done"}}}


def _kill_and_restart(topology, webs, kill_now, kill) -> None:
    try:
        _kill_and_restart_instance_0(topology, webs, kill_now, kill)
    except BaseException as error:  # reported by the test's thread
        kill["error"] = repr(error)


def _kill_and_restart_instance_0(topology, webs, kill_now, kill) -> None:
    """SIGKILL instance 0's master with a worker held, then do what systemd does: kill what is left, restart."""
    kill_now.wait(timeout=60)
    master = webs[0]
    workers = children(master.pid)
    held = workers[0]
    os.kill(held, signal.SIGSTOP)  # busy in a long request: it cannot exit at once, and keeps the socket
    kill["at"] = time.monotonic()
    os.kill(master.pid, signal.SIGKILL)
    master.process.wait(timeout=10)
    wait_until(lambda: not any(is_running(w) for w in workers if w != held), 10,
               "the other workers to die with their master", interval=0.01)
    kill["free_workers_gone_seconds"] = round(time.monotonic() - kill["at"], 3)
    # systemd, main process gone: with KillMode=mixed, SIGKILL to the rest of the unit and wait for it, then
    # the restart (Restart=always). So no straggler holds the port when the new master binds it.
    assert unit("snp-web@.service")["KillMode"] == ["mixed"]
    os.kill(held, signal.SIGKILL)
    wait_until(lambda: not is_running(held), 10, "the held worker, killed as systemd does", interval=0.01)
    kill["orphans_gone_at"] = time.monotonic()
    kill["held_worker_gone_seconds"] = round(kill["orphans_gone_at"] - kill["at"], 2)
    restarted = topology.web(0, label="web-0-restarted")  # what systemd's Restart=always does, same port
    wait_until(lambda: "Listening at:" in restarted.log() or not restarted.alive(), 40, "the restart to bind")
    kill["restart_bound_seconds"] = round(time.monotonic() - kill["at"], 2)
    wait_until(lambda: answers(f"http://127.0.0.1:{topology.ports[0]}/healthz") or not restarted.alive(), 40,
               "the restarted instance")
    kill["restart_ready_seconds"] = round(time.monotonic() - kill["at"], 2)
    # gunicorn's words when the port is taken ("Connection in use", then "Can't connect") or the kernel's.
    kill["restart_log_says_address_in_use"] = any(text in restarted.log() for text in (
        "Connection in use", "Address already in use", "Can't connect"))
    kill["restarted_alive"] = restarted.alive()
    kill["workers_killed_with_master"] = len(workers)
    assert not kill["restart_log_says_address_in_use"] and kill["restarted_alive"], restarted.log()
    kill["done"] = True


def _jobs_ran_once(app, schedulers) -> dict:
    def runs():
        with app.app_context():
            found = db.session.execute(select(JobRun.job, JobRun.instance, JobRun.started_at)
                                       .order_by(JobRun.started_at)).all()
            db.session.remove()
        return found

    def three_ticks():
        found = runs()
        return found if sum(row.job == "expire_slots" for row in found) >= 3 else None

    found = wait_until(three_ticks, 30, "three ticks of the jobs", interval=0.5)
    assert all(s.alive() for s in schedulers), "both schedulers run: one leads, one waits"
    instances = {row.instance for row in found}
    per_job: dict[str, list] = {}
    for row in found:
        per_job.setdefault(row.job, []).append(row.started_at)
    closest = {job: min(((b - a).total_seconds() for a, b in zip(starts, starts[1:])), default=None)
               for job, starts in per_job.items()}
    assert len(instances) == 1, instances
    assert int(next(iter(instances)).rsplit(":", 1)[1]) in {s.pid for s in schedulers}
    # One run per tick: two leaders would start the same job twice within milliseconds.
    assert all(gap is None or gap > JOB_TICK_SECONDS / 2 for gap in closest.values()), closest
    return {"job_runs": len(found), "runs_per_job": {job: len(starts) for job, starts in per_job.items()},
            "leader_instances": len(instances), "closest_runs_of_one_job_seconds": closest}


def _scrape(port: int) -> dict[tuple, float]:
    session = requests.Session()
    session.trust_env = False
    answer = session.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def _total(samples: dict, name: str) -> float:
    return sum(value for (sample, _labels), value in samples.items() if sample == name)


METRICS_BOOKINGS = 24


def _metrics_add_up(topology, world) -> dict:
    """Each instance counts what its workers did since it started: instance 1 ran throughout, instance 0 was
    restarted (a restarted master starts at zero, as Prometheus's rate() expects of a counter). After the
    load, a few more bookings through nginx, so that both instances (and their workers) have some."""
    booked = re.compile(r'"POST /api/v1/bookings HTTP/1\.[01]" 201 ')
    with world["app"].app_context():
        helper = World()
        doctor = helper.practitioner(helper.cpts(regulation_area="Vendée littoral"))
        first = utcnow().replace(second=0, microsecond=0) + timedelta(days=3)
        slots = [helper.slot(doctor, first + timedelta(minutes=15 * n)).id for n in range(METRICS_BOOKINGS)]
        db.session.remove()
    session = _session(topology)
    token = session.post(f"{topology.base}/api/v1/auth/token", timeout=30,
                         json={"email": world["regulators"][0], "password": PASSWORD}).json()["token"]
    for n, slot_id in enumerate(slots):
        answer = session.post(f"{topology.base}/api/v1/bookings", timeout=30, headers={
            "Authorization": f"Bearer {token}", "Connection": "close"}, json={
            "slot_id": slot_id, "channel": "sas" if n % 2 else "116117", "patient": {
                "first_name": "Paul", "last_name": "Martin", "birth_date": "1960-05-05", "phone": f"+3362{n:07d}"}})
        assert answer.status_code == 201, answer.text

    def served(label: str) -> int:
        path = topology.tmp / f"{label}.access.log"
        return sum(bool(booked.search(line)) for line in path.read_text().splitlines()) if path.exists() else 0

    def settled():
        scrapes = [_scrape(port) for port in topology.ports]
        outbox = [_total(s, name) for s in scrapes
                  for name in ("snp_outbox_backlog", "snp_outbox_oldest_pending_age_seconds")]
        return scrapes if not any(outbox) else None

    scrapes = wait_until(settled, 60, "the outbox gauges back to 0 (the scheduler sends the SMS)", interval=1)
    counted = [_total(s, "snp_bookings_total") for s in scrapes]
    made = [served("web-0-restarted"), served("web-1")]
    assert counted == made and sum(made) >= METRICS_BOOKINGS, (counted, made)
    assert all(made), made  # nginx sent bookings to both
    assert all(s[("snp_database_up", ())] == 1 for s in scrapes)
    assert all(_total(s, "snp_http_request_duration_seconds_count") > 0 for s in scrapes)
    assert all(s[("snp_job_last_success_timestamp_seconds", (("job", "send_outbox"), ("schedule", "frequent")))] > 0
               for s in scrapes)

    refused = {}
    through_nginx = _session(topology).get(f"{topology.base}/metrics", timeout=10)
    refused["through_nginx"] = through_nginx.status_code
    forwarded = requests.get(f"http://127.0.0.1:{topology.ports[1]}/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                             timeout=10)
    refused["forwarded_header"] = forwarded.status_code
    other = http.client.HTTPConnection("127.0.0.1", topology.ports[1], timeout=10, source_address=("127.0.0.2", 0))
    try:
        other.request("GET", "/metrics")
        refused["from_127.0.0.2"] = other.getresponse().status
    finally:
        other.close()
    assert refused == {"through_nginx": 404, "forwarded_header": 403, "from_127.0.0.2": 403}, refused
    return {"bookings_counted_per_instance": counted, "bookings_served_per_instance": made, "refused": refused}
