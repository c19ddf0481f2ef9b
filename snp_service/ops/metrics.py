"""Prometheus metrics at ``/metrics``: what an operator watches all year (issue 27).

Counted in the process (``prometheus_client``), added up across gunicorn's workers in multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``config/gunicorn_conf.py``, which also marks dead workers):

- ``snp_http_request_duration_seconds{method, route, status}``: the route *template*
  (``/api/v1/bookings/<int:booking_id>``), never a path, so never an id or a token; ``route="unmatched"`` for a URL no route knows;
- ``snp_bookings_total``, ``snp_booking_cancellations_total``, ``snp_booking_moves_total`` by ``channel``, counted
  once the booking service's transaction has committed;
- ``snp_sas_search_duration_seconds``: the SAS platform's slot searches (INT_R01/R04).

Read from the database at each scrape (never from a worker's memory, so any worker answers the same):

- ``snp_outbox_backlog{outbox="sms"|"sas"}`` (messages not yet handed over: pending or being sent) and
  ``snp_outbox_oldest_pending_age_seconds`` (0 when none);
- ``snp_job_last_success_timestamp_seconds{job, schedule}`` (when its last successful run ended; 0 for never) and
  ``snp_job_last_success_duration_seconds{job}``; ``schedule="nightly"`` for the once-a-day jobs;
- ``snp_database_up``: 1 when the database answers (the readiness of ``/readyz``).

``/metrics`` answers only callers whose *socket* address is in ``METRICS_ALLOW`` (``policy.may_scrape_metrics``:
a forwarded address grants nothing), and nginx never forwards it (``deploy/nginx/snp.conf``).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

disable_created_metrics()  # no "_created" series: they mean nothing summed across workers
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# This process's metrics (not the client's default registry: its process collectors mean nothing summed
# across workers).
REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram("snp_http_request_duration_seconds", "Time to answer a request, by route template",
                            ("method", "route", "status"), buckets=_LATENCY_BUCKETS, registry=REGISTRY)
BOOKINGS = Counter("snp_bookings_total", "Bookings made, by channel", ("channel",), registry=REGISTRY)
CANCELLATIONS = Counter("snp_booking_cancellations_total", "Bookings cancelled, by channel", ("channel",),
                        registry=REGISTRY)
MOVES = Counter("snp_booking_moves_total", "Bookings moved to another slot, by channel", ("channel",),
                registry=REGISTRY)
SAS_SEARCH_SECONDS = Histogram("snp_sas_search_duration_seconds", "Time to answer a slot search of the SAS platform",
                               buckets=_LATENCY_BUCKETS, registry=REGISTRY)

UNMATCHED = "unmatched"
_STARTED = "snp_metrics_started"

bp = Blueprint("metrics", __name__)


def install(app: Flask) -> None:
    """Time every request by its route template; serve ``/metrics``."""
    # First of the hooks: a request refused by a later one (hygiene, a bad token) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)


# --- what the services count -----------------------------------------------------------------------------------


def booking_made(channel: str) -> None:
    BOOKINGS.labels(channel=channel).inc()


def booking_cancelled(channel: str) -> None:
    CANCELLATIONS.labels(channel=channel).inc()


def booking_moved(channel: str) -> None:
    MOVES.labels(channel=channel).inc()


@contextmanager
def sas_search_timer():
    started = time.perf_counter()
    try:
        yield
    finally:
        SAS_SEARCH_SECONDS.observe(time.perf_counter() - started)


# --- requests ----------------------------------------------------------------------------------------------------


def route_template() -> str:
    """The matched route's template (``/api/v1/bookings/<int:booking_id>``), never the path itself."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _start_timer() -> None:
    g.setdefault(_STARTED, time.perf_counter())


def _observe(response: Response) -> Response:
    started = g.get(_STARTED)
    if started is not None:
        REQUEST_SECONDS.labels(method=request.method, route=route_template(),
                               status=str(response.status_code)).observe(time.perf_counter() - started)
    return response


# --- /metrics ----------------------------------------------------------------------------------------------------


@bp.get("/metrics")
def metrics():
    from ..policy import may_scrape_metrics

    if not may_scrape_metrics(request.environ):
        abort(403)
    body = generate_latest(_counted_registry()) + generate_latest(_scraped_registry())
    return Response(body, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _counted_registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _scraped_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(current_app._get_current_object()))
    return registry


class DatabaseCollector:
    """The gauges read from the database at scrape time: readiness, outbox backlogs, the jobs' last successes."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        up = GaugeMetricFamily("snp_database_up", "1 when the database answers (what /readyz checks)")
        try:
            families = list(_database_families())
        except Exception:  # noqa: BLE001 (an unreachable database is what this gauge reports)
            from ..core.extensions import db

            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _database_families():
    from sqlalchemy import func, select, text

    from ..core.extensions import db
    from ..core.timeutil import utcnow
    from ..models import JobRun, OutboxMessage, SasPush
    from ..scheduling import JOBS

    db.session.execute(text("SELECT 1"))
    now = utcnow()
    backlog = GaugeMetricFamily("snp_outbox_backlog", "Messages not yet handed over (pending or being sent)",
                                labels=("outbox",))
    oldest = GaugeMetricFamily("snp_outbox_oldest_pending_age_seconds",
                               "Age of the oldest message not yet handed over (0 when none)", labels=("outbox",))
    for name, model in (("sms", OutboxMessage), ("sas", SasPush)):
        count, first = db.session.execute(
            select(func.count(), func.min(model.created_at)).where(model.status.in_(("pending", "sending")))).one()
        backlog.add_metric([name], count)
        oldest.add_metric([name], max(0.0, (now - first).total_seconds()) if first is not None else 0.0)
    last_success = GaugeMetricFamily("snp_job_last_success_timestamp_seconds",
                                     "When the job's last successful run ended (Unix time; 0: never)",
                                     labels=("job", "schedule"))
    last_duration = GaugeMetricFamily("snp_job_last_success_duration_seconds",
                                      "How long the job's last successful run took", labels=("job",))
    latest = (select(JobRun.job, func.max(JobRun.started_at).label("started_at"))
              .where(JobRun.succeeded.is_(True)).group_by(JobRun.job).subquery())
    runs = {row.job: row for row in db.session.execute(
        select(JobRun.job, JobRun.started_at, JobRun.duration_ms)
        .join(latest, (JobRun.job == latest.c.job) & (JobRun.started_at == latest.c.started_at))
        .where(JobRun.succeeded.is_(True)))}
    for name, job in sorted(JOBS.items()):
        schedule = "nightly" if job.catch_up is not None else "frequent"
        run = runs.get(name)
        ended = run.started_at.timestamp() + run.duration_ms / 1000 if run else 0.0
        last_success.add_metric([name, schedule], ended)
        last_duration.add_metric([name], run.duration_ms / 1000 if run else 0.0)
    yield from (backlog, oldest, last_success, last_duration)
