"""The scheduler process loop: wait for the leader lock, run the jobs while holding it.

Every instance (``flask snp scheduler`` on two machines, or the development
in-process scheduler of each web process) runs this loop; only the lock holder
starts APScheduler. A non-leader retries every ``SCHEDULER_LEADER_RETRY_SECONDS``,
so a dead leader is replaced within a minute.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import suppress
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from ..core.timeutil import utcnow
from . import JOBS, last_successes, run_job
from .leader import leader_lock_for

log = logging.getLogger(__name__)


def build_scheduler(app: Flask, instance: str) -> BackgroundScheduler:
    # coalesce: after a pause, one catch-up run, not one per missed tick.
    scheduler = BackgroundScheduler(timezone="Europe/Paris", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    every = app.config.get("SCHEDULER_JOB_INTERVAL_SECONDS")
    for job in JOBS.values():
        trigger = {"trigger": "interval", "seconds": every} if every else job.trigger
        scheduler.add_job(_run_logged, args=(app, job.name, instance), id=job.name, **trigger)
    return scheduler


def _run_logged(app: Flask, name: str, instance: str) -> None:
    # A failure is already logged and recorded by run_job; the next tick tries again.
    with suppress(Exception):
        run_job(app, name, instance=instance)


class LeaderRunner:
    def __init__(self, app: Flask):
        self.app = app
        self.lock = leader_lock_for(app)
        self.retry_seconds = app.config["SCHEDULER_LEADER_RETRY_SECONDS"]
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()

    def run(self) -> None:
        log.info("scheduler %s: started, waiting for the leader lock", self.instance)
        while not self.stopping.is_set():
            if self._acquire():
                try:
                    self._lead()
                finally:
                    self.lock.release()
            self.stopping.wait(self.retry_seconds)
        log.info("scheduler %s: stopped", self.instance)

    def stop(self) -> None:
        self.stopping.set()

    def _acquire(self) -> bool:
        try:
            return self.lock.acquire()
        except Exception:
            log.exception("scheduler %s: could not try the leader lock", self.instance)
            return False

    def _lead(self) -> None:
        log.info("scheduler %s: leader, running the jobs", self.instance)
        scheduler = build_scheduler(self.app, self.instance)
        scheduler.start()
        try:
            self._catch_up(scheduler)
            while not self.stopping.wait(self.retry_seconds):
                if not self.lock.held():
                    log.warning("scheduler %s: lost the leader lock, stepping down", self.instance)
                    return
        finally:
            scheduler.shutdown(wait=True)

    def _catch_up(self, scheduler: BackgroundScheduler) -> None:
        """A nightly job missed while no instance led (or before the first start) runs now, not tomorrow."""
        try:
            with self.app.app_context():
                last = last_successes()
        except Exception:
            log.exception("scheduler %s: could not read the last job runs", self.instance)
            return
        now = utcnow()
        for job in JOBS.values():
            if job.catch_up and (job.name not in last or now - last[job.name] > job.catch_up):
                scheduler.modify_job(job.name, next_run_time=datetime.now(timezone.utc))
