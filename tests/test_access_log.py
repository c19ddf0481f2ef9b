"""The calendar feed's secret token is never written in an access log: gunicorn's, nginx's (issue 15, item 11)."""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest
import requests

from snp_service.core.secret_masking import MASK, mask_secrets

from .conftest import need
from .deploy_config import UnitProcess, answers, nginx_available, nginx_site, self_signed_certificate, wait_until
from .nginx import Nginx, free_port


def test_the_mask_covers_both_feed_urls_and_nothing_else():
    token = secrets.token_urlsafe(32)
    line = f'"GET /calendar/{token}.ics HTTP/1.1" 200 "https://x/api/v1/calendar/{token}.ics?a=1"'
    masked = mask_secrets(line)
    assert token not in masked and masked.count(f"/calendar/{MASK}.ics") == 2 and "?a=1" in masked
    assert mask_secrets("GET /calendar HTTP/1.1 /gp/calendar-token") == "GET /calendar HTTP/1.1 /gp/calendar-token"


def test_the_apps_own_log_records_are_masked(app, caplog):
    token = secrets.token_urlsafe(32)
    caplog.set_level(logging.INFO)
    logging.getLogger("snp_service.test").error("Exception on /calendar/%s.ics [GET]", token)  # as Flask words it
    assert token not in caplog.text and f"/calendar/{MASK}.ics" in caplog.text


@pytest.fixture
def feed_token(app, world) -> str:
    return world.practitioner(world.cpts()).calendar_token


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """The web unit's ExecStart (deploy/systemd/snp-web@.service), one worker, access log in a file."""
    port = free_port()
    web = UnitProcess("snp-web@.service", instance=str(port), log_path=tmp_path / "gunicorn.log", env={
        "SNP_CONFIG": "development", "SNP_DATABASE_URL": database_url, "SNP_INSTANCE_DIR": str(tmp_path),
        "SNP_ACCESS_LOG": str(tmp_path / "access.log"), "WEB_CONCURRENCY": "1"}).start()
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz") or not web.alive(), 30, "gunicorn")
        assert web.alive(), web.log()
        yield port, tmp_path / "access.log"
    finally:
        web.stop()


def test_gunicorn_access_log_masks_the_feed_token(gunicorn, feed_token):
    port, access_log = gunicorn
    for path in (f"/calendar/{feed_token}.ics", f"/api/v1/calendar/{feed_token}.ics"):
        assert requests.get(f"http://127.0.0.1:{port}{path}", timeout=10).status_code == 200
    logged = wait_until(lambda: _lines_with(access_log, "calendar", 2), 10, "two access-log lines")
    assert feed_token not in logged
    assert f"GET /calendar/{MASK}.ics" in logged and f"GET /api/v1/calendar/{MASK}.ics" in logged


def test_nginx_access_log_masks_the_feed_token(gunicorn, feed_token, tmp_path):
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    port, _access_log = gunicorn
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    site = nginx_site((port, port), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)
    with Nginx(site).start(wait_for_port=https_port):
        feed = requests.get(f"https://127.0.0.1:{https_port}/calendar/{feed_token}.ics", verify=str(certificate),
                            headers={"Referer": f"https://127.0.0.1/api/v1/calendar/{feed_token}.ics"}, timeout=10)
        assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
        logged = wait_until(lambda: _lines_with(tmp_path / "snp.access.log", "calendar", 1), 10, "nginx's line")
    assert feed_token not in logged
    assert f'"GET /calendar/{MASK}.ics HTTP/1.1" 200' in logged and f"/api/v1/calendar/{MASK}.ics" in logged


def test_gunicorn_and_nginx_access_logs_mask_a_password_setup_secret(gunicorn, tmp_path):
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    port, access_log = gunicorn
    secret = secrets.token_urlsafe(32)
    assert requests.get(f"http://127.0.0.1:{port}/password-setup/{secret}", timeout=10).status_code == 404
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    site = nginx_site((port, port), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)
    with Nginx(site).start(wait_for_port=https_port):
        page = requests.get(f"https://127.0.0.1:{https_port}/password-setup/{secret}?x=1", verify=str(certificate),
                            headers={"Referer": f"https://127.0.0.1/password-setup/{secret}"}, timeout=10)
        assert page.status_code == 404
        logged = wait_until(lambda: _lines_with(tmp_path / "snp.access.log", "password-setup", 1), 10, "nginx's line")
    gunicorn_logged = wait_until(lambda: _lines_with(access_log, "password-setup", 2), 10, "gunicorn's lines")
    assert secret not in logged and secret not in gunicorn_logged
    assert f'"GET /password-setup/{MASK}?x=1 HTTP/1.1" 404' in logged
    assert f'"https://127.0.0.1/password-setup/{MASK}"' in logged
    assert f"GET /password-setup/{MASK}" in gunicorn_logged


def test_nginx_error_log_never_holds_the_feed_token(tmp_path):
    """An upstream error writes the request line in nginx's error log: never for a feed URL."""
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    token = secrets.token_urlsafe(32)
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    dead = (free_port(), free_port())  # both instances down: every request is an upstream error
    site = nginx_site(dead, free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)
    with Nginx(site).start(wait_for_port=https_port) as nginx:
        for path in (f"/calendar/{token}.ics", f"/api/v1/calendar/{token}.ics?x=1", f"/password-setup/{token}",
                     f"/r/{token}", "/gp/agenda-of-a-dead-upstream"):
            assert requests.get(f"https://127.0.0.1:{https_port}{path}", verify=str(certificate),
                                timeout=10).status_code == 502
        logged = wait_until(lambda: _lines_with(nginx.error_log, "agenda-of-a-dead-upstream", 1), 10,
                            "the error log's line for the page")
        errors = nginx.error_log.read_text() + "".join(p.read_text() for p in tmp_path.glob("*error*.log"))
    assert "connect() failed" in logged or "upstream" in logged  # the log is on, at the level of upstream errors
    assert token not in errors


def _lines_with(path: Path, text: str, count: int) -> str | None:
    if not path.exists():
        return None
    lines = [line for line in path.read_text().splitlines() if text in line]
    return "\n".join(lines) if len(lines) >= count else None


def test_snp_conf_includes_the_sas_block_when_installed_beside_it(tmp_path):
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    self_signed_certificate(tmp_path / "tls")
    https_port, sas_port = free_port(), free_port()

    def site():
        return nginx_site((free_port(), free_port()), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)

    with Nginx(site()).start(wait_for_port=https_port):  # without it, nginx starts all the same
        assert not answers(f"http://127.0.0.1:{sas_port}/")
    (tmp_path / "sas-mtls.conf").write_text(f"server {{ listen 127.0.0.1:{sas_port}; return 200 'sas'; }}\n")
    with Nginx(site()).start(wait_for_port=sas_port):
        assert requests.get(f"http://127.0.0.1:{sas_port}/", timeout=5).text == "sas"


def test_gunicorn_and_nginx_logs_mask_a_patient_link_secret(gunicorn, tmp_path):
    """The patient's own link (/r/<secret>, issue 24): a wrong secret is masked exactly as a live one is."""
    if not nginx_available():
        need("nginx and openssl (apt-get install nginx-light openssl)")
    port, access_log = gunicorn
    secret = secrets.token_urlsafe(16)
    assert requests.get(f"http://127.0.0.1:{port}/r/{secret}", timeout=10).status_code == 404
    certificate = self_signed_certificate(tmp_path / "tls")
    https_port = free_port()
    site = nginx_site((port, port), free_port(), https_port, tmp_path / "tls", tmp_path, tmp_path)
    with Nginx(site).start(wait_for_port=https_port):
        page = requests.get(f"https://127.0.0.1:{https_port}/r/{secret}/annuler", verify=str(certificate),
                            headers={"Referer": f"https://127.0.0.1/r/{secret}"}, timeout=10)
        assert page.status_code == 404
        logged = wait_until(lambda: _lines_with(tmp_path / "snp.access.log", "/r/", 1), 10, "nginx's line")
    gunicorn_logged = wait_until(lambda: _lines_with(access_log, "/r/", 2), 10, "gunicorn's lines")
    assert secret not in logged and secret not in gunicorn_logged
    assert f'"GET /r/{MASK}/annuler HTTP/1.1" 404' in logged and f'"https://127.0.0.1/r/{MASK}"' in logged
    assert f"GET /r/{MASK}" in gunicorn_logged
