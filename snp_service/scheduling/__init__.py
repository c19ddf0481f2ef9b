"""Background jobs and the scheduler that runs them.

A job is a few lines calling a domain service. ``JOBS`` is the registry used by
the scheduler, by ``flask snp run-job NAME`` and by the tests.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]
    trigger: dict


def _expire_slots():
    from ..housekeeping import expire_free_slots

    return {"expired": expire_free_slots()}


JOBS: dict[str, Job] = {
    job.name: job for job in (
        Job("expire_slots", _expire_slots, {"trigger": "interval", "minutes": 1}),
    )
}


def run_job(app: Flask, name: str) -> object:
    """Run one job now inside an app context; logs duration and counts."""
    job = JOBS[name]
    started = time.perf_counter()
    with app.app_context():
        result = job.run()
    log.info("job %s done in %.0f ms: %s", name, (time.perf_counter() - started) * 1000, result)
    return result


def build_scheduler(app: Flask, scheduler_cls):
    scheduler = scheduler_cls(timezone="Europe/Paris", job_defaults={"coalesce": True, "max_instances": 1})
    for job in JOBS.values():
        scheduler.add_job(run_job, args=(app, job.name), id=job.name, **job.trigger)
    return scheduler


def start_in_process(app: Flask):
    """Development default: the jobs run in a thread of the web process (one process only)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start()
    app.extensions["snp_scheduler"] = scheduler
    return scheduler


def run_forever(app: Flask) -> None:
    """``flask snp scheduler``: the jobs in their own process."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    build_scheduler(app, BlockingScheduler).start()
