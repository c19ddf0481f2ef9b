"""Cost of the hostile requests of issues 15 and 28, each refused before the work, in a real worker.

One gunicorn worker (config/gunicorn_conf.py, sync) serves a small world on SQLite (default) or a
throwaway PostgreSQL 15 cluster (``--postgresql``). Each input is sent ``--repeat`` times over HTTP; for
each the script prints the answer, the worst wall time (and its ratio to ``GET /healthz`` measured the
same way in the same run), and the worst growth of the worker's resident memory during one request: the
peak (``VmHWM``, reset before each request through ``/proc/<pid>/clear_refs``) minus the resident size
before it. The issue's bound for every input: under 1 s and under +50 MB.

Inputs (issue 28, findings 3 and 4; issue 15, item 2):
- the three RRULEs of finding 3 (``FREQ=DAILY;INTERVAL=0;BYMONTH=6;UNTIL=20270201``;
  ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=<in 100 days>``; ``FREQ=MONTHLY;BYSETPOS=-366;...``), each
  through ``POST /api/v1/slots`` (series), ``POST /api/v1/slots/import`` and the GP page's ``/gp/import``;
- a 2 MB ``{"slots": [1, 1, ...]}``, 330,000 empty objects, 1,000,000 ``aci_missions`` (coordinator),
  a huge ``cpts_ids`` (coordinator), 150,000 unknown keys on ``POST /api/v1/auth/token`` (no account);
- a block from tomorrow to 2199 in 1-minute slots; a 10 KB .ics of 100 events 118 days long at 5 minutes.

    python benchmarks/bench_refused_requests.py                 # SQLite
    python benchmarks/bench_refused_requests.py --postgresql    # throwaway PostgreSQL cluster
    python benchmarks/bench_refused_requests.py --code /path/to/other/checkout   # its server, same inputs

``--code`` serves another checkout's code (e.g. ``main`` before a change) with the same inputs; a request
that does not answer within ``--timeout`` seconds is shown as such (gunicorn's own timeout is 30 s).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from booking_load import Gunicorn  # noqa: E402

from snp_service import create_app
from snp_service.accounts import passwords  # noqa: E402
from snp_service.core.extensions import db  # noqa: E402
from snp_service.core.timeutil import to_paris, utcnow  # noqa: E402
from snp_service.models import Commune, Cpts, Practitioner, User  # noqa: E402
from tests.ics_samples import ICS_HEAD, long_events_ics  # noqa: E402
from tests.pg_cluster import PgCluster  # noqa: E402

PASSWORD = "bench-password-long-enough"
LIMIT_SECONDS, LIMIT_MIB = 1.0, 50.0


def build_world(url: str) -> None:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        cpts = Cpts(name="CPTS bench", population=50_000,
                    communes=[Commune(insee="85222", name="Saint-Gilles", lat=46.7, lon=-1.9)])
        doctor = Practitioner(rpps="10000000001", first_name="A", last_name="B", commune_insee="85222", cpts=[cpts])
        db.session.add_all([cpts, doctor])
        db.session.flush()
        for email, role, practitioner in (("gp@bench.example", "gp", doctor.id),
                                          ("coordinator@bench.example", "coordinator", None)):
            db.session.add(User(email=email, password_hash=passwords.hash_password(PASSWORD), role=role,
                                practitioner_id=practitioner, cpts=[cpts]))
        db.session.commit()
        db.engine.dispose()


class Caller:
    """HTTP to the server: a bearer token per role, and a GP's page session for the page's import."""

    def __init__(self, base: str, timeout: float):
        self.base, self.timeout = base, timeout
        self.tokens = {role: self._token(f"{role}@bench.example") for role in ("gp", "coordinator")}
        self.page = requests.Session()
        login = self.page.get(f"{base}/login", timeout=timeout).text
        self.page.post(f"{base}/login", timeout=timeout, data={
            "email": "gp@bench.example", "password": PASSWORD, "csrf_token": _csrf(login)})
        self.page_csrf = _csrf(self.page.get(f"{base}/gp", timeout=timeout).text)

    def _token(self, email: str) -> str:
        answer = requests.post(f"{self.base}/api/v1/auth/token", json={"email": email, "password": PASSWORD},
                               timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()["token"]

    def api(self, method: str, path: str, body: bytes, role: str | None, content_type: str = "application/json"):
        headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {self.tokens[role]}"} if role else {})
        return lambda: requests.request(method, f"{self.base}{path}", data=body, headers=headers, timeout=self.timeout)

    def page_import(self, ics: bytes):
        return lambda: self.page.post(f"{self.base}/gp/import", timeout=self.timeout, allow_redirects=False, data={
            "csrf_token": self.page_csrf, "ics-slot_minutes": "15"}, files={"ics-file": ("agenda.ics", ics)})

    def page_outcome(self) -> str:
        """What the GP page said after its import (its flashed message), read after the timing."""
        page = self.page.get(f"{self.base}/gp", timeout=self.timeout).text
        return "refused" if "flash flash-error" in page else "imported" if "flash flash-success" in page else "?"


def _csrf(page: str) -> str:
    found = (re.search(r'name="csrf-token" content="([^"]+)"', page)
             or re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page))
    return found.group(1)


def _series(rrule: str) -> bytes:
    first = to_paris(utcnow() + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0, tzinfo=None)
    return ('{"series": {"first_start": "%s", "block_minutes": 60, "slot_minutes": 15, "rrule": "%s"}}'
            % (first.isoformat(), rrule)).encode()


def _ics(rrule: str) -> bytes:
    start = utcnow() + timedelta(days=1)
    return (ICS_HEAD + f"BEGIN:VEVENT\r\nUID:hostile\r\nDTSTART:{start:%Y%m%dT170000Z}\r\n"
            f"DTEND:{start:%Y%m%dT180000Z}\r\nRRULE:{rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def old_counted_ics() -> bytes:
    events = "".join(f"BEGIN:VEVENT\r\nUID:old-{i}\r\nDTSTART:19700101T10{i:02d}00Z\r\nDURATION:PT15M\r\n"
                     "RRULE:FREQ=DAILY;COUNT=30000\r\nEND:VEVENT\r\n" for i in range(10))
    return (ICS_HEAD + events + "END:VCALENDAR\r\n").encode()


def inputs(caller: Caller) -> list[tuple[str, object]]:
    in_100_days = f"{utcnow() + timedelta(days=100):%Y%m%d}"
    rules = [("INTERVAL=0", "FREQ=DAILY;INTERVAL=0;BYMONTH=6;UNTIL=20270201"),
             ("Feb 30", f"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL={in_100_days}"),
             ("BYSETPOS=-366", f"FREQ=MONTHLY;BYSETPOS=-366;UNTIL={in_100_days}")]
    found: list[tuple[str, object]] = []
    for name, rule in rules:
        found += [(f"RRULE {name}: POST /slots series", caller.api("POST", "/api/v1/slots", _series(rule), "gp")),
                  (f"RRULE {name}: POST /slots/import", caller.api("POST", "/api/v1/slots/import", _ics(rule), "gp",
                                                                  "text/calendar")),
                  (f"RRULE {name}: page /gp/import", caller.page_import(_ics(rule)))]
    numbers = "[" + ",".join(["1"] * 1_000_000) + "]"
    tomorrow = to_paris(utcnow() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    block = ('{"block": {"start": "%s", "end": "%s", "slot_minutes": 1}}'
             % (tomorrow.isoformat(), tomorrow.replace(year=2199).isoformat())).encode()
    found += [
        ("2 MB {slots: [1, 1, ...]}", caller.api("POST", "/api/v1/slots", ('{"slots":' + numbers + "}").encode(), "gp")),
        ("330,000 empty objects in slots", caller.api("POST", "/api/v1/slots",
                                                      ('{"slots":[' + ",".join(["{}"] * 330_000) + "]}").encode(), "gp")),
        ("1,000,000 aci_missions (PATCH /cpts/1)", caller.api("PATCH", "/api/v1/cpts/1",
                                                              ('{"aci_missions":' + numbers + "}").encode(), "coordinator")),
        ("900,000 cpts_ids (POST /users)", caller.api("POST", "/api/v1/users", (
            '{"email":"x@bench.example","password":"a-long-password-1","role":"regulator","cpts_ids":'
            + "[" + ",".join(["1"] * 900_000) + "]}").encode(), "coordinator")),
        ("150,000 unknown keys, /auth/token, no account", caller.api("POST", "/api/v1/auth/token", (
            "{" + ",".join(f'"k{i}":1' for i in range(150_000)) + ',"email":"a@b.fr","password":"x"}').encode(), None)),
        # Just under the JSON budget (hygiene.MAX_JSON_VALUES): parsed, then refused by the schema.
        ("19,990 numbers in slots (under the JSON budget)", caller.api(
            "POST", "/api/v1/slots", ('{"slots":[' + ",".join(["1"] * 19_990) + "]}").encode(), "gp")),
        ("19,990 unknown keys, /auth/token (under the budget)", caller.api("POST", "/api/v1/auth/token", (
            "{" + ",".join(f'"k{i}":1' for i in range(19_990)) + ',"email":"a@b.fr","password":"x"}').encode(), None)),
        # The most a file's rules may cost (calendar_import.MAX_EXPANSION_DAYS), spent then refused.
        (".ics 10 daily rules with COUNT from 1970", caller.api("POST", "/api/v1/slots/import", old_counted_ics(),
                                                                 "gp", "text/calendar")),
        ("block tomorrow -> 2199, 1-minute slots", caller.api("POST", "/api/v1/slots", block, "gp")),
        (".ics 100 events x 118 days, 5 minutes", caller.api("POST", "/api/v1/slots/import?slot_minutes=5",
                                                             long_events_ics(), "gp", "text/calendar")),
    ]
    return found


def _status(pid: int) -> dict[str, int]:
    return {line.split(":")[0]: int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith(("VmRSS:", "VmHWM:"))}


def measure(worker: int, send, repeat: int) -> tuple[str, float, float | None]:
    """(answer, worst seconds, worst RSS growth in MiB, None when the worker was killed) of ``repeat`` requests."""
    worst_time, worst_growth = 0.0, 0.0
    answer = ""
    for _ in range(repeat):
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        before = _status(worker)["VmRSS"]
        started = time.perf_counter()
        try:
            response = send()
            answer = str(response.status_code)
            if response.headers.get("Content-Type", "").startswith("application/json"):
                answer += " " + (response.json().get("error") or {}).get("code", "")
        except requests.Timeout:
            answer = "no answer (timeout)"
        except requests.ConnectionError:
            answer = "connection reset (worker killed)"
        elapsed = time.perf_counter() - started
        worst_time = max(worst_time, elapsed)
        try:
            peak = _status(worker).get("VmHWM")
        except FileNotFoundError:
            peak = None
        if peak is None:  # the worker was killed (gunicorn's timeout, or the kernel): no figure
            return answer, worst_time, None
        growth = (peak - before) / 1024
        worst_growth = max(worst_growth, growth)
    return answer, worst_time, worst_growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL 15 cluster instead of SQLite")
    parser.add_argument("--repeat", type=int, default=3, help="requests per input (the worst is shown)")
    parser.add_argument("--timeout", type=float, default=40.0, help="seconds a request may take before it is abandoned")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code the server runs")
    parser.add_argument("--skip", action="append", default=[], help="leave out the inputs whose label holds this text")
    args = parser.parse_args()
    cluster = PgCluster().start() if args.postgresql else None
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = cluster.create_database("bench_refused") if cluster else f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
            build_world(url)
            run(url, args)
    finally:
        if cluster:
            cluster.stop()


def run(url: str, args) -> None:
    """Each input in turn; a server whose worker an input killed (or left hanging) is replaced before the next."""
    server, entries, baseline, index = None, [], 0.0, 0
    try:
        while True:
            if server is None:
                server = Gunicorn(url, workers=1, code=args.code)
                caller = Caller(f"http://127.0.0.1:{server.port}", args.timeout)
                entries = [(label, send) for label, send in inputs(caller)
                           if not any(text in label for text in args.skip)]
                if not baseline:
                    baseline = _baseline(server, caller, args)
            if index == len(entries):
                return
            label, send = entries[index]
            index += 1
            answer, seconds, growth = measure(server.pids()[-1], send, args.repeat)
            if "page" in label and answer.startswith("302"):
                answer += " " + caller.page_outcome()
            ok = seconds < LIMIT_SECONDS and growth is not None and growth < LIMIT_MIB
            memory = "worker killed" if growth is None else f"+{growth:.1f} MiB"
            print(f"| {label} | {answer} | {seconds * 1000:.0f} ms | {seconds / baseline:.0f} | {memory} | "
                  f"{'yes' if ok else 'NO'} |", flush=True)
            if growth is None or not answer[:1].isdigit() or answer.startswith("5"):  # killed, hung or broken
                server.stop()
                server = None
    finally:
        if server is not None:
            server.stop()


def _baseline(server: Gunicorn, caller: Caller, args) -> float:
    health = caller.api("GET", "/healthz", b"", None)
    for _ in range(5):
        health()
    _, baseline, _ = measure(server.pids()[-1], health, 20)
    database = "PostgreSQL 15" if args.postgresql else "SQLite"
    print(f"{database}, one gunicorn sync worker, code from {args.code}; worst of {args.repeat} requests each; "
          f"baseline GET /healthz worst of 20: {baseline * 1000:.1f} ms")
    print("| input | answer | worst time | × /healthz | worst RSS growth | within 1 s and +50 MB |")
    print("|---|---|---|---|---|---|")
    return baseline


if __name__ == "__main__":
    main()
