"""A/B of the booking path: two versions of the code serve the same region in alternating rounds.

Each version (a git commit, exported with ``git archive``, or the working tree) gets
its own gunicorn on the same PostgreSQL working copy, and its own captured SQL: the
statements one of its booking requests executes, replayed raw, as ``bench_booking``
does. Rounds alternate A and B (and their order), so a slow spell of the shared
machine weighs on both; each round prints the throughput, the raw replay of that
version's own SQL, their ratio (the SPEC's figure) and the gunicorn CPU per booking
(``/proc`` counters: the least noisy of the four on a loaded machine).

    python benchmarks/ab_booking.py --a main --b WORKTREE      # main against the working tree, 1× region
    python benchmarks/ab_booking.py --a 595982c --b HEAD --rounds 8 --bookings 800
"""
from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from booking_load import CpuMeter, Gunicorn, describe, free_slot_ids, http_bookings, replayed_bookings, statement_count
from region_cache import OUTPUT, regions
from region_data import ROOT

from snp_service import create_app
from snp_service.accounts import tokens
from snp_service.core.extensions import db
from snp_service.models import User

WORKTREE = "WORKTREE"
# The version's package is imported first, from the working directory: region_data (imported by booking_load)
# puts this working tree on sys.path, and the package would otherwise come from there.
_CAPTURE = """
import pickle, sys
import snp_service, tests
sys.path.insert(0, {benchmarks!r})
from booking_load import capture_booking
sys.stdout.buffer.write(pickle.dumps(capture_booking({url!r}, {token!r}, {slot_id!r})))
"""


def code_of(ref: str) -> tuple[Path, str]:
    """A directory holding the code of ``ref`` (exported once per commit), and a label."""
    if ref == WORKTREE:
        return ROOT, "working tree"
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    target = OUTPUT / "ab" / sha
    if not (target / "wsgi.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, f"{ref} ({sha})"


def capture_with(code: Path, url: str, token: str, slot_id: int) -> list[tuple]:
    """The booking's SQL as ``code`` executes it: captured in a process that imports that code."""
    script = _CAPTURE.format(benchmarks=str(ROOT / "benchmarks"), url=url, token=token, slot_id=slot_id)
    result = subprocess.run([sys.executable, "-c", script], cwd=code, env={"PYTHONPATH": str(code)},
                            capture_output=True, check=True)
    return pickle.loads(result.stdout)


class Version:
    def __init__(self, ref: str, url: str, token: str, capture_slot: int, workers: int | None, meter: CpuMeter):
        self.code, self.label = code_of(ref)
        self.url, self.token = url, token
        self.steps = capture_with(self.code, url, token, capture_slot)
        self.server = Gunicorn(url, workers=workers, code=self.code)
        self.meter = meter
        self.http, self.raw, self.cpu, self.http_cost, self.raw_cost = [], [], [], [], []

    def round(self, http_slots: list[int], raw_slots: list[int]) -> None:
        cpu, before = self.server.cpu_seconds(), self.meter.snapshot()
        rate, answers = http_bookings(self.server.port, self.token, http_slots)
        assert answers.get(201) == len(http_slots), dict(answers)
        worker = self.server.cpu_seconds() - cpu
        self.cpu.append(worker * 1000 / len(http_slots))
        self.http_cost.append((worker + self.meter.spent(before, self.meter.snapshot())) * 1000 / len(http_slots))
        self.http.append(rate)
        before = self.meter.snapshot()
        self.raw.append(replayed_bookings(self.url, self.steps, raw_slots))
        self.raw_cost.append(self.meter.spent(before, self.meter.snapshot()) * 1000 / len(raw_slots))

    def summary(self) -> str:
        statements, commits = statement_count(self.steps)
        http, raw = statistics.median(self.http), statistics.median(self.raw)
        ratios = [h / r for h, r in zip(self.http, self.raw)]
        return (f"{self.label}: {statements} statements + {commits} commit ({describe(self.steps)})\n"
                f"    gunicorn {http:.0f}/s, raw {raw:.0f}/s, ratio of medians {100 * http / raw:.1f} % "
                f"(per round {', '.join(f'{100 * r:.0f}' for r in ratios)} %), "
                f"gunicorn CPU {statistics.median(self.cpu):.2f} ms a booking "
                f"(per round {', '.join(f'{c:.2f}' for c in self.cpu)})\n"
                f"    CPU a booking, every process: gunicorn path {statistics.median(self.http_cost):.2f} ms, "
                f"raw {statistics.median(self.raw_cost):.2f} ms, ratio "
                f"{100 * statistics.median(self.raw_cost) / statistics.median(self.http_cost):.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", default="main", help=f"git ref of version A, or {WORKTREE}")
    parser.add_argument("--b", default=WORKTREE, help=f"git ref of version B, or {WORKTREE}")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--bookings", type=int, default=600, help="bookings per version and round")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    with regions([args.scale], postgresql=True, quick=args.quick) as built:
        url, summary = built[args.scale].url, built[args.scale].summary
        app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
        area, cpts_ids = next(iter(summary["areas"].items()))
        with app.app_context():
            user = db.session.query(User).filter_by(email=summary["regulator_emails"][area]).one()
            token, _ = tokens.issue_token(user, timedelta(hours=3))
            db.engine.dispose()
        per_round = args.bookings
        slots = free_slot_ids(url, cpts_ids, 4 * args.rounds * per_round + 202)
        meter = CpuMeter(built[args.scale].postmaster_pid)
        versions = [Version(ref, url, token, slots[-1 - n], args.workers, meter)
                    for n, ref in enumerate((args.a, args.b))]
        try:
            for n, version in enumerate(versions):  # warm-up: imports, caches, prepared statements
                http_bookings(version.server.port, token, slots[-102 - 100 * n:-2 - 100 * n])
            chunks = iter(slots[i * per_round:(i + 1) * per_round] for i in range(4 * args.rounds))
            for n in range(args.rounds):
                for version in (versions if n % 2 == 0 else versions[::-1]):
                    version.round(next(chunks), next(chunks))
                print(f"round {n + 1}: " + "; ".join(
                    f"{v.label}: {v.http[-1]:.0f}/s vs raw {v.raw[-1]:.0f}/s, {v.cpu[-1]:.2f} ms CPU"
                    for v in versions), flush=True)
        finally:
            for version in versions:
                version.server.stop()
    print("\n".join(v.summary() for v in versions))
    a, b = versions
    print(f"B/A: throughput {statistics.median(b.http) / statistics.median(a.http):.3f}, "
          f"gunicorn CPU per booking {statistics.median(b.cpu) / statistics.median(a.cpu):.3f}, "
          f"CPU per booking, every process {statistics.median(b.http_cost) / statistics.median(a.http_cost):.3f}")


if __name__ == "__main__":
    main()
