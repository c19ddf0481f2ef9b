"""The jobs, their registry, and one leader across scheduler instances.

The multi-process tests start real ``flask snp scheduler`` processes with a
one-second tick against the test database: on PostgreSQL they elect a leader
with the advisory lock, on SQLite with the file lock beside the database file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, UTC, utcnow
from snp_service.models import JobRun, Slot
from snp_service.scheduling import JOBS, run_job
from snp_service.scheduling.leader import leader_lock_for
from snp_service.scheduling.runner import build_scheduler

REPO = Path(__file__).resolve().parents[1]
TICK_SECONDS = 1.0


def test_every_job_is_registered():
    assert set(JOBS) == {"expire_slots", "expire_slot_requests", "send_outbox", "send_sas_appointments", "send_reminders",
                         "accrue_supplements", "compute_indicators", "purge_patient_data", "purge_sign_in_records",
                         "purge_practice_files"}


NIGHTLY = ("accrue_supplements", "compute_indicators", "purge_patient_data")  # in the order they must run


def _fire_times(trigger, start, end) -> list:
    times, fire = [], trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end and len(times) < 10:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return times


@pytest.mark.parametrize("sunday", [date(2026, 10, 25), date(2027, 3, 28)], ids=["october-fold", "march-gap"])
def test_nightly_jobs_run_once_and_in_order_on_the_daylight_saving_sundays(app, sunday):
    """APScheduler reads cron times in Europe/Paris: 02:30 happened twice on the last Sunday of October and
    fell to 03:30, after the indicators, on the last Sunday of March. No nightly job may sit in that hour."""
    scheduler = build_scheduler(app, "test")
    start = datetime.combine(sunday - timedelta(days=1), clock_time(12), PARIS)
    runs = {name: _fire_times(scheduler.get_job(name).trigger, start, start + timedelta(days=2)) for name in NIGHTLY}
    for name, times in runs.items():
        assert [t.astimezone(PARIS).date() for t in times] == [sunday, sunday + timedelta(days=1)], name
    for day in (0, 1):  # compared as instants: datetimes of one tzinfo compare by their wall-clock times
        assert sorted(NIGHTLY, key=lambda name: runs[name][day].astimezone(UTC)) == list(NIGHTLY)


def test_expire_slots_job_counts_and_records_its_run(app, world):
    gp = world.practitioner(world.cpts())
    past = utcnow() - timedelta(hours=3)
    world.slot(gp, past)
    world.slot(gp, past + timedelta(minutes=30))
    world.booking(world.slot(gp, past + timedelta(hours=1)))  # booked: stays booked
    world.slot(gp, utcnow() + timedelta(hours=1))               # not started yet

    assert run_job(app, "expire_slots") == {"expired": 2}
    assert run_job(app, "expire_slots") == {"expired": 0}

    statuses = sorted(db.session.scalars(select(Slot.status)))
    assert statuses == ["booked", "expired", "expired", "free"]
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job, r.instance, r.succeeded, r.result) for r in runs] == [
        ("expire_slots", "cli", True, {"expired": 2}), ("expire_slots", "cli", True, {"expired": 0})]


def test_nightly_jobs_run_on_an_empty_database(app):
    assert run_job(app, "accrue_supplements")["acts"] == 0
    assert run_job(app, "compute_indicators") == {"cpts": 0, "values": 0}
    assert run_job(app, "purge_patient_data") == {"patients": 0, "booking_reasons": 0, "sms": 0}
    assert run_job(app, "send_reminders") == {"enqueued": 0}
    assert not any(run_job(app, "send_outbox").values())  # nothing queued: every count is zero


def test_run_job_command(app, world):
    gp = world.practitioner(world.cpts())
    world.slot(gp, utcnow() - timedelta(hours=1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["snp", "run-job", "expire_slots"])
    assert result.exit_code == 0 and result.output == "expire_slots: {'expired': 1}\n"
    unknown = runner.invoke(args=["snp", "run-job", "make_coffee"])
    assert unknown.exit_code == 2 and "unknown job" in unknown.output


def test_a_failed_job_is_recorded_and_raises(app, monkeypatch):
    def broken():
        raise RuntimeError("backend down")

    monkeypatch.setitem(JOBS, "expire_slots", JOBS["expire_slots"].__class__("expire_slots", broken, {}))
    with pytest.raises(RuntimeError):
        run_job(app, "expire_slots")
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
    assert (run.job, run.succeeded, run.result) == ("expire_slots", False, None)


def test_leader_lock_is_exclusive_until_released(app):
    first, second = leader_lock_for(app), leader_lock_for(app)
    try:
        assert first.acquire()
        assert first.held()
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


def test_web_app_starts_no_scheduler_unless_asked(app):
    assert "snp_scheduler" not in app.extensions


# --- several scheduler processes ------------------------------------------------------------------------------


def _start_scheduler(database_url: str, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNP_")}
    env.update(SNP_CONFIG="development", SNP_DATABASE_URL=database_url, SNP_INSTANCE_DIR=str(tmp_path / "instance"),
               SNP_SMS_BACKEND="memory", SNP_SCHEDULER_JOB_INTERVAL_SECONDS=str(TICK_SECONDS),
               SNP_SCHEDULER_LEADER_RETRY_SECONDS="0.5")
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "snp", "scheduler"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _runs() -> list[JobRun]:
    db.session.rollback()  # a fresh snapshot: the schedulers write from other processes
    runs = db.session.scalars(select(JobRun).order_by(JobRun.started_at)).all()
    db.session.commit()
    return runs


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate(_runs())
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _instance_pid(run: JobRun) -> int:
    return int(run.instance.rsplit(":", 1)[1])


def test_two_scheduler_processes_run_each_job_once_per_tick(ctx, database_url, tmp_path):
    first = _start_scheduler(database_url, tmp_path, "first")
    second = _start_scheduler(database_url, tmp_path, "second")
    try:
        runs = _wait_for(lambda runs: runs if sum(r.job == "expire_slots" for r in runs) >= 6 else None,
                         timeout=60, what="six ticks of expire_slots")
        assert first.poll() is None and second.poll() is None  # both alive: one leads, one waits
    finally:
        _stop(first, second)

    assert {_instance_pid(run) for run in runs} in ({first.pid}, {second.pid})
    for name in JOBS:
        starts = [run.started_at for run in runs if run.job == name]
        assert starts, f"{name} never ran"
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(starts, starts[1:])]
        # One run per one-second tick; two instances would start the same tick twice, a few ms apart.
        assert all(gap > TICK_SECONDS / 2 for gap in gaps), (name, gaps)


def test_killing_the_leader_hands_the_jobs_to_the_other_instance(ctx, database_url, tmp_path):
    leader = _start_scheduler(database_url, tmp_path, "leader")
    standby = None
    try:
        _wait_for(lambda runs: any(_instance_pid(r) == leader.pid for r in runs), timeout=60, what="the first leader")
        standby = _start_scheduler(database_url, tmp_path, "standby")
        time.sleep(6)  # the standby is up and retrying the lock every half second
        assert all(_instance_pid(r) == leader.pid for r in _runs())

        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        killed_at = utcnow()
        takeover = _wait_for(lambda runs: [r for r in runs if _instance_pid(r) == standby.pid], timeout=60,
                             what="the standby to take over")
    finally:
        _stop(*(p for p in (leader, standby) if p is not None))

    # Well within the minute the issue asks for: lock retry 0.5 s, then the first tick.
    assert (takeover[0].started_at - killed_at).total_seconds() < 15
