"""The request log (issue 27): one JSON line per request with its id, answered in X-Request-Id; errors carry the
same id; never a patient's name or phone, a token or a calendar secret."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest

from snp_service.core.timeutil import utcnow
from snp_service.notify.sender import send_pending
from snp_service.ops.request_log import JsonFormatter

from .sas_world import SAS_HEADERS, configure, search_url, take_part

PATIENT = {"first_name": "Philomène", "last_name": "Quenouille", "birth_date": "1950-03-02", "phone": "+33698765401"}
PHONE_SHAPES = ("+33698765401", "698765401", "06 98 76 54 01", "0698765401")


@pytest.fixture
def log_lines():
    """What production writes: every record of the process, through the JSON formatter (configure_logging)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    for logger in logging.Logger.manager.loggerDict.values():  # Alembic's fileConfig (migration tests) disables them
        if isinstance(logger, logging.Logger):
            logger.disabled = False
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        text = stream.getvalue()
        return [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _requests(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "snp.request"]


def _assert_nothing_secret(lines: list[dict], *secrets: str) -> None:
    text = json.dumps(lines, ensure_ascii=False)
    for secret in (PATIENT["first_name"], PATIENT["last_name"], *PHONE_SHAPES, *secrets):
        assert secret not in text, secret


def test_a_booking_is_one_json_line_with_its_request_id_and_no_patient_data(app, client, world, log_lines):
    cpts = world.cpts(regulation_area="Vendée")
    regulator = world.user("regulator", cpts)
    headers = world.headers(regulator)
    doctor = world.practitioner(cpts)
    slot = world.slot(doctor, utcnow() + timedelta(hours=3))
    response = client.post("/api/v1/bookings", json={"slot_id": slot.id, "channel": "116117", "patient": PATIENT},
                           headers=headers)
    assert response.status_code == 201
    send_pending()  # the patient's and the GP's SMS
    feed = client.get(f"/calendar/{doctor.calendar_token}.ics")
    assert feed.status_code == 200

    lines = log_lines()
    booking_line, = [line for line in _requests(lines) if line["method"] == "POST"]
    assert booking_line["request_id"] == response.headers["X-Request-Id"]
    assert len(booking_line["request_id"]) >= 16
    assert (booking_line["route"], booking_line["status"], booking_line["user_id"]) == ("/api/v1/bookings", 201,
                                                                                          regulator.id)
    assert isinstance(booking_line["duration_ms"], float) and booking_line["time"].endswith("+00:00")
    feed_line, = [line for line in _requests(lines) if line["route"].startswith("/calendar/")]
    assert feed_line["route"] == "/calendar/<token>.ics" and feed_line["user_id"] is None
    assert feed_line["request_id"] == feed.headers["X-Request-Id"] != booking_line["request_id"]
    _assert_nothing_secret(lines, headers["Authorization"].split()[1], doctor.calendar_token)


def test_a_sas_search_is_logged_by_its_route_template(app, client, world, log_lines):
    configure(app)
    doctor = take_part(world.practitioner(world.cpts()))
    world.slot(doctor, utcnow() + timedelta(hours=2))
    now = utcnow().replace(second=0, microsecond=0)
    response = client.get(search_url([doctor.rpps], now, now + timedelta(days=1)), headers=SAS_HEADERS)
    assert response.status_code == 200
    line, = _requests(log_lines())
    assert (line["route"], line["status"], line["request_id"]) == ("/api/v1/fhir/Slot", 200,
                                                                   response.headers["X-Request-Id"])
    assert "?" not in json.dumps(line) and doctor.rpps not in json.dumps(line)


def test_the_request_id_comes_from_the_trusted_proxy_only(client, log_lines):
    nginx_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    through_nginx = client.get("/healthz", headers={"X-Request-Id": nginx_id})  # the test client's peer: 127.0.0.1
    assert through_nginx.headers["X-Request-Id"] == nginx_id
    direct = client.get("/healthz", headers={"X-Request-Id": nginx_id}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert direct.headers["X-Request-Id"] != nginx_id
    odd = client.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert odd.headers["X-Request-Id"] != "<script>alert(1)</script>" and len(odd.headers["X-Request-Id"]) == 32
    assert [line["request_id"] for line in _requests(log_lines())] == [
        nginx_id, direct.headers["X-Request-Id"], odd.headers["X-Request-Id"]]


def test_an_error_carries_the_request_id_of_its_request(app, log_lines):
    def boom():
        raise RuntimeError("something broke")
    app.add_url_rule("/api/v1/boom-for-test", "boom", boom)
    response = app.test_client().get("/api/v1/boom-for-test")
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    lines = log_lines()
    error, = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == request_id and "RuntimeError: something broke" in error["error"]
    request_line, = _requests(lines)
    assert (request_line["request_id"], request_line["status"]) == (request_id, 500)


def test_a_refused_request_is_logged_too(client, log_lines):
    response = client.get("/api/v1/bookings", headers={"Authorization": "Bearer not-a-real-token-secret"})
    assert response.status_code == 401
    line, = _requests(log_lines())
    assert (line["route"], line["status"], line["request_id"]) == ("/api/v1/bookings", 401,
                                                                   response.headers["X-Request-Id"])
    _assert_nothing_secret([line], "not-a-real-token-secret")
