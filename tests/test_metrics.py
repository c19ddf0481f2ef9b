"""Prometheus metrics at /metrics (issue 27): who may read them, and what they count."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import OutboxMessage
from snp_service.notify import sender as sms_sender
from snp_service.ops import metrics
from snp_service.scheduling import run_job

from .sas_world import SAS_HEADERS, configure, search_url, take_part

PATIENT = {"first_name": "Jeanne", "last_name": "Durandal", "birth_date": "1980-01-01", "phone": "0612345678"}


def scrape(client, peer: str = "127.0.0.1", **headers) -> dict[tuple, float]:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": peer}, headers=headers)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_answer_allowed_socket_addresses_only(app, client):
    assert client.get("/metrics").status_code == 200  # the test client's peer is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    # Through the trusted proxy (nginx on 127.0.0.1), a forwarded address grants nothing, even an allowed one.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    app.config["METRICS_ALLOW"] = ["10.20.0.0/16"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.3.4"}).status_code == 200
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                      headers={"X-Forwarded-For": "10.20.3.4"}).status_code == 403


def test_no_account_opens_the_metrics_from_elsewhere(client, world):
    admin = world.headers(world.user("admin"))
    assert client.get("/metrics", headers=admin, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403


def _request_counts(samples: dict) -> dict[tuple, float]:
    return {labels: n for (name, labels), n in samples.items() if name == "snp_http_request_duration_seconds_count"}


def test_latency_is_labelled_by_route_template_never_an_id_or_token(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    headers = world.headers(world.user("regulator", cpts))
    booking = world.booking(world.slot(world.practitioner(cpts)))
    route = "/api/v1/bookings/<int:booking_id>"
    labels = (("method", "GET"), ("route", route), ("status", "200"))
    before = _request_counts(scrape(client)).get(labels, 0)
    assert client.get(f"/api/v1/bookings/{booking.id}", headers=headers).status_code == 200
    client.get("/calendar/sEcReTfeedtoken1234567890abcdef.ics")
    client.get("/no/such/page/zorglub4242")
    text = client.get("/metrics").get_data(as_text=True)
    counts = _request_counts(scrape(client))
    assert counts[labels] == before + 1
    routes = {dict(key)["route"] for key in counts}
    assert {"/calendar/<token>.ics", "unmatched"} <= routes
    # A path's words never reach a label (a sample's value may hold any digits: look for the word, not "4242").
    assert "sEcReTfeedtoken" not in text and "zorglub" not in text and f"/bookings/{booking.id}" not in text


def test_bookings_cancellations_and_moves_are_counted_by_channel_once_committed(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts)
    headers = world.headers(world.user("regulator", cpts))
    slots = [world.slot(doctor, utcnow() + timedelta(hours=2, minutes=20 * i)).id for i in range(3)]
    before = scrape(client)

    def post(path, body):
        return client.post(path, json=body, headers=headers)

    quiet = {"patient": PATIENT, "notify_patient": False}
    booked = post("/api/v1/bookings", {"slot_id": slots[0], "channel": "sas", **quiet})
    assert booked.status_code == 201
    assert post("/api/v1/bookings", {"slot_id": slots[0], "channel": "sas", "patient": PATIENT}).status_code == 409
    other = post("/api/v1/bookings", {"slot_id": slots[1], "channel": "116117", **quiet})
    assert post(f"/api/v1/bookings/{booked.get_json()['id']}/move", {"slot_id": slots[2]}).status_code == 201
    assert post(f"/api/v1/bookings/{other.get_json()['id']}/cancel", {}).status_code == 200
    assert post(f"/api/v1/bookings/{other.get_json()['id']}/cancel", {}).status_code == 409  # nothing committed

    after = scrape(client)

    def delta(name: str, channel: str) -> float:
        return value(after, name, channel=channel) - value(before, name, channel=channel)
    assert (delta("snp_bookings_total", "sas"), delta("snp_bookings_total", "116117")) == (1, 1)
    assert (delta("snp_booking_moves_total", "sas"), delta("snp_booking_moves_total", "116117")) == (1, 0)
    assert (delta("snp_booking_cancellations_total", "sas"),
            delta("snp_booking_cancellations_total", "116117")) == (0, 1)


def test_outbox_backlog_and_oldest_age_come_back_to_zero_once_sent(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts)
    headers = world.headers(world.user("regulator", cpts))
    slot = world.slot(doctor, utcnow() + timedelta(hours=3))
    assert client.post("/api/v1/bookings", json={"slot_id": slot.id, "channel": "116117", "patient": PATIENT},
                       headers=headers).status_code == 201
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=15)))
    db.session.commit()
    waiting = scrape(client)
    assert value(waiting, "snp_outbox_backlog", outbox="sms") >= 1
    assert 15 * 60 <= value(waiting, "snp_outbox_oldest_pending_age_seconds", outbox="sms") < 16 * 60
    assert value(waiting, "snp_outbox_backlog", outbox="sas") == 0

    sms_sender.send_pending()
    sent = scrape(client)
    assert value(sent, "snp_outbox_backlog", outbox="sms") == 0
    assert value(sent, "snp_outbox_oldest_pending_age_seconds", outbox="sms") == 0


def test_each_jobs_last_success_and_duration(app, client):
    never = scrape(client)
    assert value(never, "snp_job_last_success_timestamp_seconds", job="accrue_supplements", schedule="nightly") == 0
    started = utcnow().timestamp()
    run_job(app, "expire_slots")
    after = scrape(client)
    ended = value(after, "snp_job_last_success_timestamp_seconds", job="expire_slots", schedule="frequent")
    assert started - 1 <= ended <= utcnow().timestamp() + 1
    assert 0 <= value(after, "snp_job_last_success_duration_seconds", job="expire_slots") < 60


def test_database_readiness(client, monkeypatch):
    assert value(scrape(client), "snp_database_up") == 1

    def unreachable():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        yield  # pragma: no cover

    monkeypatch.setattr(metrics, "_database_families", unreachable)
    down = scrape(client)
    assert value(down, "snp_database_up") == 0
    assert ("snp_outbox_backlog", (("outbox", "sms"),)) not in down


def test_sas_search_latency_is_observed(app, client, world):
    configure(app)
    cpts = world.cpts()
    doctor = take_part(world.practitioner(cpts))
    before = value(scrape(client), "snp_sas_search_duration_seconds_count")
    now = utcnow().replace(second=0, microsecond=0)
    response = client.get(search_url([doctor.rpps], now, now + timedelta(days=1)), headers=SAS_HEADERS)
    assert response.status_code == 200
    assert value(scrape(client), "snp_sas_search_duration_seconds_count") == before + 1


def test_a_refused_booking_counts_nothing(client, world):
    channel = "116117"
    cpts = world.cpts(regulation_area="Vendée")
    headers = world.headers(world.user("regulator", cpts))
    before = value(scrape(client), "snp_bookings_total", channel=channel)
    response = client.post("/api/v1/bookings", json={"slot_id": 999999, "channel": channel, "patient": PATIENT},
                           headers=headers)
    assert response.status_code == 404
    assert value(scrape(client), "snp_bookings_total", channel=channel) == before
