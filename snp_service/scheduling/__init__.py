"""Background jobs and the scheduler that runs them.

A job is a few lines calling a domain service (``jobs.py``). ``JOBS`` is the
registry used by the scheduler, by ``flask snp run-job NAME`` and by the tests.
Whatever starts a scheduler, ``flask snp scheduler`` or the development
in-process one, goes through the same leader lock (``runner.py``), so the jobs
run once per tick however many instances or gunicorn workers there are.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import Flask
from sqlalchemy import delete, func, select

from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import JobRun
from . import jobs

log = logging.getLogger(__name__)

JOB_RUN_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], dict]
    trigger: dict
    # A new leader runs the job at once when its last success is older than this.
    catch_up: timedelta | None = None


_NIGHTLY = timedelta(hours=26)
JOBS: dict[str, Job] = {
    job.name: job for job in (
        Job("expire_slots", jobs.expire_slots, {"trigger": "interval", "minutes": 1}),
        Job("expire_slot_requests", jobs.expire_slot_requests, {"trigger": "interval", "seconds": 30}),
        Job("send_outbox", jobs.send_outbox, {"trigger": "interval", "seconds": 30}),
        Job("send_sas_appointments", jobs.send_sas_appointments, {"trigger": "interval", "seconds": 30}),
        Job("send_reminders", jobs.send_reminders, {"trigger": "interval", "minutes": 5}),
        # Cron times are Europe/Paris wall-clock times: none between 02:00 and 03:00, the hour that happens
        # twice on the last Sunday of October and not at all on the last Sunday of March.
        Job("accrue_supplements", jobs.accrue_supplements, {"trigger": "cron", "hour": 1, "minute": 30}, _NIGHTLY),
        # After the supplements: the indicators include the supplement total.
        Job("compute_indicators", jobs.compute_indicators, {"trigger": "cron", "hour": 3, "minute": 0}, _NIGHTLY),
        Job("purge_patient_data", jobs.purge_patient_data, {"trigger": "cron", "hour": 3, "minute": 30}, _NIGHTLY),
        # Expired page sessions and sign-in attempts past their window: dead rows, kept small.
        Job("purge_sign_in_records", jobs.purge_sign_in_records, {"trigger": "cron", "minute": 41}),
        # Practice databases unused for PRACTICE_KEEP_HOURS (practice/space.py).
        Job("purge_practice_files", jobs.purge_practice_files, {"trigger": "cron", "minute": 47}),
    )
}


def run_job(app: Flask, name: str, instance: str = "cli") -> dict:
    """Run one job now inside an app context; logs and records its duration and counts."""
    job = JOBS[name]
    started_at, started = utcnow(), time.perf_counter()
    with app.app_context():
        try:
            result = job.run()
        except Exception:
            duration_ms = round((time.perf_counter() - started) * 1000)
            log.exception("job %s failed after %d ms", name, duration_ms)
            _record_run(name, instance, started_at, duration_ms, succeeded=False, result=None)
            raise
        duration_ms = round((time.perf_counter() - started) * 1000)
        log.info("job %s done in %d ms: %s", name, duration_ms, result)
        _record_run(name, instance, started_at, duration_ms, succeeded=True, result=result)
    return result


def _record_run(name: str, instance: str, started_at: datetime, duration_ms: int, *, succeeded: bool, result) -> None:
    try:
        with write_transaction():
            db.session.add(JobRun(job=name, instance=instance, started_at=started_at, duration_ms=duration_ms,
                                  succeeded=succeeded, result=json.loads(json.dumps(result, default=str))))
            db.session.execute(delete(JobRun).where(JobRun.job == name, JobRun.started_at < started_at - JOB_RUN_RETENTION))
    except Exception:
        # The job's own outcome is already logged; a missing history row must not turn it into a failure.
        log.exception("job %s: could not record the run", name)


def last_successes() -> dict[str, datetime]:
    rows = db.session.execute(select(JobRun.job, func.max(JobRun.started_at)).where(JobRun.succeeded)
                              .group_by(JobRun.job))
    return dict(rows.all())


def start_in_process(app: Flask):
    """Development default: the leader loop in a thread of the web process (``SCHEDULER_IN_PROCESS``)."""
    from .runner import LeaderRunner

    runner = LeaderRunner(app)
    threading.Thread(target=runner.run, name="snp-scheduler", daemon=True).start()
    app.extensions["snp_scheduler"] = runner
    return runner


def run_forever(app: Flask) -> None:
    """``flask snp scheduler``: the leader loop in this process until SIGTERM or Ctrl-C."""
    from .runner import LeaderRunner

    runner = LeaderRunner(app)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: runner.stop())
    runner.run()
