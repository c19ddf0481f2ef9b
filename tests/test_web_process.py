"""The web process as deployed (issue 28, item 11): gunicorn behind nginx, each as its unit starts it.

- An oversized request, a request whose worker gunicorn kills, an instance that is gone: nginx answers
  them itself, in the service's error format (``deploy/nginx/snp.conf``), never with gunicorn's plain
  text or nginx's HTML, on the API.
- A gunicorn started on a port already taken exits non-zero, so systemd's ``Restart=always`` fires
  (it used to spin for ever: with ``reuse_port`` the workers bind, fail and are respawned).

Both passes run it: the web process holds the test's database (SQLite file or PostgreSQL).
"""
from __future__ import annotations

import sqlite3
import threading

import pytest
import requests

from .conftest import need
from .deploy_config import UnitProcess, answers, nginx_available, nginx_site, self_signed_certificate, wait_until
from .nginx import Nginx, free_port

# gunicorn kills a worker silent this long (production: 30 s); preloaded, so no worker is killed while booting.
TEST_WORKER_TIMEOUT = 4


def _web(database_url: str, tmp_path, label: str, port: int | None = None, **env) -> tuple[UnitProcess, int]:
    """The web unit's ExecStart (deploy/systemd/snp-web@.service), one worker."""
    port = port or free_port()
    web = UnitProcess("snp-web@.service", instance=str(port), log_path=tmp_path / f"{label}.log", env={
        "SNP_CONFIG": "development", "SNP_DATABASE_URL": database_url, "SNP_INSTANCE_DIR": str(tmp_path),
        "SNP_ACCESS_LOG": str(tmp_path / f"{label}.access.log"), "WEB_CONCURRENCY": "1", **env}).start()
    return web, port


@pytest.fixture
def web(app, database_url, tmp_path):
    web, port = _web(database_url, tmp_path, "web",
                     GUNICORN_CMD_ARGS=f"--timeout {TEST_WORKER_TIMEOUT} --preload")
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz") or not web.alive(), 40, "gunicorn")
        assert web.alive(), web.log()
        yield web, port
    finally:
        web.stop()


@pytest.fixture
def proxy(web, tmp_path):
    """nginx on deploy/nginx/snp.conf in front of the instance; ``get``/``post`` through it over TLS."""
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    _, port = web
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    with Nginx(nginx_site((port, port), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)).start(
            wait_for_port=https_port):
        session = requests.Session()
        session.trust_env = False
        session.verify = str(certificate)
        session.base = f"https://127.0.0.1:{https_port}"
        yield session


def _error(answer) -> dict:
    assert answer.headers["Content-Type"].startswith("application/json"), (answer.status_code, answer.text[:200])
    error = answer.json()["error"]
    assert {"code", "message", "fields"} <= set(error) and error["message"], error
    return error


def test_a_second_instance_on_a_taken_port_exits_non_zero(web, database_url, tmp_path):
    first, port = web
    second, _ = _web(database_url, tmp_path, "second", port=port)
    try:
        wait_until(lambda: not second.alive(), 30, "the second instance to give up the taken port")
        assert second.process.returncode != 0, second.log()
        assert "Connection in use" in second.log()
        assert first.alive() and answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        second.stop()


def test_nginx_answers_oversized_requests_in_the_error_format(proxy, world):
    base, long_text = proxy.base, "x" * 5000
    cpts = world.cpts()
    coordinator = world.headers(world.user("coordinator", cpts))

    line = proxy.get(f"{base}/api/v1/slots?q={long_text}", timeout=10)
    assert line.status_code == 414 and _error(line)["code"] == "uri_too_long"
    header = proxy.get(f"{base}/api/v1/slots", headers={"X-Long": long_text}, timeout=10)
    assert header.status_code == 431 and _error(header)["code"] == "headers_too_large"
    fhir = proxy.get(f"{base}/api/v1/fhir/$bulk-publish", headers={"X-Long": long_text}, timeout=10)
    assert fhir.status_code == 431 and fhir.headers["Content-Type"] == "application/fhir+json"
    assert fhir.json()["resourceType"] == "OperationOutcome"
    body = proxy.post(f"{base}/api/v1/slots", data=b"{" + b" " * 3_000_000 + b"}",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert body.status_code == 413 and _error(body)["code"] == "payload_too_large"
    # What nginx lets through, gunicorn never refuses on its own: 150 header lines (its default allowed 100,
    # answered in plain text), a 3 MB history import (its own limit is 8 MB). The service answers.
    many = proxy.get(f"{base}/api/v1/slots", headers={f"X-Header-{n}": "1" for n in range(150)}, timeout=10)
    assert many.status_code == 401 and _error(many)["code"] == "authentication_required"
    history = proxy.post(f"{base}/api/v1/imports/history?cpts_id={cpts.id}", data=b"rpps" + b" " * 3_000_000,
                         headers={"Content-Type": "text/csv", **coordinator}, timeout=30)
    assert history.status_code == 422 and _error(history)["code"] == "validation_error"  # read by the service
    page = proxy.get(f"{base}/login", headers={"X-Long": long_text}, timeout=10)
    assert page.status_code == 400 and page.headers["Content-Type"].startswith("text/html")  # nginx's own page


def test_a_request_whose_worker_gunicorn_kills_gets_a_502_in_the_error_format(proxy, web, database_url):
    """The worker is stuck (the database it writes to is locked) past gunicorn's timeout: gunicorn aborts it,
    the connection closes without an answer, nginx answers in the error format. Before, the worker waiting
    on PostgreSQL unwound into gunicorn's own plain-text 500, and the one waiting on SQLite got nginx's HTML
    502. nginx never resends the POST to another instance."""
    release = threading.Event()
    locked = threading.Event()
    holder = threading.Thread(target=_hold_the_write_lock, args=(database_url, locked, release), daemon=True)
    holder.start()
    try:
        assert locked.wait(10), "the test could not lock the database"
        answer = proxy.post(f"{proxy.base}/api/v1/auth/token", json={"email": "x@y.example", "password": "z" * 12},
                            timeout=60)
    finally:
        release.set()
        holder.join(timeout=20)
    assert answer.status_code == 502 and _error(answer)["code"] == "bad_gateway"
    wait_until(lambda: "WORKER TIMEOUT" in web[0].log(), 10, "gunicorn's account of the timeout")
    if not database_url.startswith("sqlite"):  # SQLite's C wait only ends with the SIGKILL that follows
        assert "request cut by the 4 s timeout, at:" in web[0].log() and "sign_in" in web[0].log()
    wait_until(lambda: answers(f"http://127.0.0.1:{web[1]}/healthz"), 40, "a new worker")


def test_no_instance_left_is_a_502_in_the_error_format(tmp_path):
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    site = nginx_site((free_port(), free_port()), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)
    with Nginx(site).start(wait_for_port=https_port):
        api = requests.get(f"https://127.0.0.1:{https_port}/api/v1/slots", verify=str(certificate), timeout=10)
        fhir = requests.get(f"https://127.0.0.1:{https_port}/api/v1/fhir/$bulk-publish", verify=str(certificate),
                            timeout=10)
        page = requests.get(f"https://127.0.0.1:{https_port}/gp", verify=str(certificate), timeout=10)
    assert api.status_code == 502 and _error(api)["message"].startswith("Le service n'a pas pu répondre")
    assert fhir.status_code == 502 and fhir.json()["issue"][0]["code"] == "transient"
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")


def _hold_the_write_lock(database_url: str, locked: threading.Event, release: threading.Event) -> None:
    """Hold the database's write lock (SQLite) or the sign-in throttle's table (PostgreSQL) until released."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None, timeout=10)
        connection.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        connection = psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"))
        connection.execute("LOCK TABLE sign_in_attempt IN ACCESS EXCLUSIVE MODE")
    locked.set()
    release.wait(120)
    connection.rollback() if not database_url.startswith("sqlite") else connection.execute("ROLLBACK")
    connection.close()
