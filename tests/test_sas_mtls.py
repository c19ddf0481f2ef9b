"""Who may call the SAS interface: the platform, through our reverse proxy's mutual TLS (agg-psindiv@1-3).

First the service's rules on the proxy's headers, then the real thing: Debian's nginx with
``deploy/nginx/sas-mtls.conf`` in front of the service, certificates made here with ``cryptography``.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow

from .certs import CertificateAuthority, write_crl
from .conftest import need
from .nginx import Nginx, NginxUnavailable, free_port
from .sas_world import SAS_CN, SAS_HEADERS, SAS_OU, assert_operation_outcome, configure, search_url, take_part

SAS_MTLS_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "sas-mtls.conf"


@pytest.fixture
def gp(app, world):
    configure(app)
    practitioner = take_part(world.practitioner(world.cpts()))
    world.slot(practitioner, utcnow() + timedelta(hours=2))
    return practitioner


def _search(client, gp, headers=None, remote_addr="127.0.0.1", environ=None):
    return client.get(search_url([gp.rpps], utcnow(), utcnow() + timedelta(days=1)), headers=headers or {},
                      environ_base={"REMOTE_ADDR": remote_addr, **(environ or {})})


def _refused(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert_operation_outcome(response.get_json())


def test_the_platforms_headers_from_the_proxy_are_accepted(client, gp):
    assert _search(client, gp, SAS_HEADERS).get_json()["total"] == 1


def test_forged_headers_from_an_untrusted_address_are_refused(client, gp):
    _refused(_search(client, gp, SAS_HEADERS, remote_addr="10.1.2.3"), 401)


def test_the_socket_peer_counts_not_the_forwarded_address(client, gp):
    """With ProxyFix installed (snp_service/core/proxy.py), REMOTE_ADDR is the forwarded one: the socket peer decides."""
    # A stranger claiming, by X-Forwarded-For, to be the proxy.
    _refused(_search(client, gp, SAS_HEADERS | {"X-Forwarded-For": "127.0.0.1"}, remote_addr="10.1.2.3"), 401)
    # The proxy forwarding the platform's connection: its own address counts, not the forwarded one.
    assert _search(client, gp, SAS_HEADERS | {"X-Forwarded-For": "203.0.113.9"},
                   remote_addr="127.0.0.1").status_code == 200


def test_trusted_proxies_may_be_networks(gp, database_url):
    """TRUSTED_PROXIES is read when the service starts (each app here is a start), by the one rule ProxyFix reads too."""
    with _app_trusting(database_url, ["10.0.0.0/8"]) as client:
        assert _search(client, gp, SAS_HEADERS, remote_addr="10.1.2.3").status_code == 200
        _refused(_search(client, gp, SAS_HEADERS, remote_addr="127.0.0.1"), 401)
    # SNP_TRUSTED_PROXIES=a,b arrives as one string: a list once the configuration is loaded.
    with _app_trusting(database_url, "192.0.2.1, 10.0.0.0/8") as client:
        assert _search(client, gp, SAS_HEADERS, remote_addr="10.1.2.3").status_code == 200


def test_an_ipv4_mapped_peer_is_its_ipv4_address(client, gp):
    """A dual-stack socket shows the proxy 127.0.0.1 as ::ffff:127.0.0.1: still the trusted proxy."""
    assert _search(client, gp, SAS_HEADERS, remote_addr="::ffff:127.0.0.1").status_code == 200
    _refused(_search(client, gp, SAS_HEADERS, remote_addr="::ffff:10.1.2.3"), 401)


@contextmanager
def _app_trusting(database_url: str, trusted):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXIES": trusted})
    configure(app)
    try:
        yield app.test_client()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("verify", [None, "NONE", "FAILED:certificate has expired", "success"])
def test_an_unverified_certificate_is_refused(client, gp, verify):
    headers = {"X-SSL-Client-S-DN": SAS_HEADERS["X-SSL-Client-S-DN"]}
    if verify is not None:
        headers["X-SSL-Client-Verify"] = verify
    _refused(_search(client, gp, headers), 401)


@pytest.mark.parametrize("dn, status", [
    (f"CN={SAS_CN},OU={SAS_OU},O=ANS,C=FR", 200),
    (f"/C=FR/O=ANS/OU={SAS_OU}/CN={SAS_CN}", 200),  # nginx's legacy form
    (f"CN=other.example,OU={SAS_OU},O=ANS,C=FR", 403),
    (f"CN={SAS_CN},OU=Autre service,O=ANS,C=FR", 403),
    (f"CN={SAS_CN}\\,OU={SAS_OU},O=ANS,C=FR", 403),  # an escaped comma: one CN, no OU
    (f"CN={SAS_CN},CN=second,OU={SAS_OU}", 403),
    ("not a DN", 403),
    ("", 403),
])
def test_the_certificates_cn_and_ou_must_be_the_platforms(client, gp, dn, status):
    response = _search(client, gp, {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": dn})
    assert response.status_code == status, (dn, response.get_data(as_text=True))


def test_nothing_configured_nobody_gets_in(client, gp, app):
    app.config.update(SAS_CLIENT_CN=None, SAS_CLIENT_OU=None)
    _refused(_search(client, gp, SAS_HEADERS), 403)


def test_the_capability_statement_is_public_and_declares_what_we_serve(client):
    response = client.get("/api/v1/fhir/metadata", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    statement = response.get_json()
    # R4's required elements (no SAS profile exists for it), then what the SAS platform calls.
    assert statement["resourceType"] == "CapabilityStatement" and statement["status"] in ("draft", "active")
    assert statement["kind"] == "instance" and statement["fhirVersion"] == "4.0.1" and statement["date"]
    assert statement["format"] == ["application/fhir+json"] and statement["implementation"]["url"].endswith("/api/v1/fhir")
    (rest,) = statement["rest"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert rest["mode"] == "server" and set(resources) == {"Slot", "Practitioner"}
    assert resources["Slot"]["interaction"][0]["code"] == "search-type"
    assert {"Slot:schedule", "Schedule:actor", "Slot:service-type-reference",
            "HealthcareService:organization"} == set(resources["Slot"]["searchInclude"])
    assert {i["code"] for i in resources["Practitioner"]["interaction"]} == {"create", "update"}
    assert resources["Practitioner"]["conditionalUpdate"] and resources["Practitioner"]["updateCreate"]


# ---------------------------------------------------------------- the real reverse proxy


@pytest.fixture
def mtls(tmp_path, live_server, gp):
    """nginx with sas-mtls.conf (paths and ports adapted) in front of the live service."""
    igc = CertificateAuthority(tmp_path, "igc-sante")
    revoked = igc.issue(SAS_CN, SAS_OU, file_stem="revoked-platform")
    crl = write_crl(igc, [revoked[0]])
    server_ca = CertificateAuthority(tmp_path, "server")
    server_cert, server_key = server_ca.issue("127.0.0.1", server=True)
    port = free_port()
    service_port = live_server.rsplit(":", 1)[1]
    conf = SAS_MTLS_CONF.read_text()
    for default, actual in (("listen 8443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                            ("/etc/snp/tls/sas-server.pem", str(server_cert)),
                            ("/etc/snp/tls/sas-server.key", str(server_key)),
                            ("/etc/snp/tls/igc-sante-ca.pem", str(igc.path)),
                            ("/etc/snp/tls/igc-sante-crl.pem", str(crl)),
                            ("http://snp_web", f"http://127.0.0.1:{service_port}")):
        assert default in conf, default
        conf = conf.replace(default, actual)
    try:
        nginx = Nginx(conf).start(wait_for_port=port)
    except NginxUnavailable as error:
        need(str(error))
    try:
        yield {"url": f"https://127.0.0.1:{port}", "igc": igc, "verify": str(server_ca.path), "gp": gp,
               "service": live_server, "tmp": tmp_path, "revoked": revoked, "port": port}
    finally:
        nginx.stop()


def _through_nginx(mtls, cert=None) -> requests.Response:
    url = mtls["url"] + search_url([mtls["gp"].rpps], utcnow(), utcnow() + timedelta(days=1))
    # verify given with the request: REQUESTS_CA_BUNDLE in the environment would override a session's.
    return requests.get(url, cert=tuple(map(str, cert)) if cert else None, verify=mtls["verify"], timeout=10)


def test_agg_psindiv_1_the_platforms_certificate_gets_its_slots_through_nginx(mtls):
    response = _through_nginx(mtls, mtls["igc"].issue(SAS_CN, SAS_OU))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json()["total"] == 1


def test_agg_psindiv_1_no_certificate_or_another_ca_is_refused_by_nginx(mtls):
    for cert in (None, CertificateAuthority(mtls["tmp"], "stranger").issue(SAS_CN, SAS_OU)):
        response = _through_nginx(mtls, cert)
        assert response.status_code == 401
        assert response.json()["resourceType"] == "OperationOutcome"


def test_agg_psindiv_2_a_certificate_with_another_cn_is_refused(mtls):
    response = _through_nginx(mtls, mtls["igc"].issue("someone-else.example", SAS_OU))
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


def test_agg_psindiv_3_a_certificate_with_another_ou_is_refused(mtls):
    response = _through_nginx(mtls, mtls["igc"].issue(SAS_CN, "Autre service"))
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


def test_a_direct_request_forging_the_headers_is_refused(mtls, app):
    """Straight to the service, from an address that is not the proxy, with the headers nginx would set."""
    host, port = mtls["service"].removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=("127.0.0.2", 0))
    path = search_url([mtls["gp"].rpps], utcnow(), utcnow() + timedelta(days=1))
    connection.request("GET", path, headers=SAS_HEADERS)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 401 and body["resourceType"] == "OperationOutcome"


def test_kit_a_revoked_client_certificate_is_refused_by_nginx(mtls):
    """ssl_crl: the platform's certificate, genuine but revoked by its CA, gets nothing (test kit v0.3.0)."""
    response = _through_nginx(mtls, mtls["revoked"])
    assert response.status_code == 401 and response.json()["resourceType"] == "OperationOutcome"
    assert _through_nginx(mtls, mtls["igc"].issue(SAS_CN, SAS_OU)).status_code == 200  # not revoked: served


def _handshake(port: int, version: ssl.TLSVersion) -> str:
    """The TLS version nginx agrees to when the client offers only ``version`` (an SSLError if it refuses)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions: the server must refuse them
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_kit_tls_1_2_or_later_only(mtls, tmp_path):
    assert _handshake(mtls["port"], ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert _handshake(mtls["port"], ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            _handshake(mtls["port"], old)
    # The control: this client does speak TLS 1.1 to a server that allows it, so the refusal above is nginx's.
    server_ca = CertificateAuthority(tmp_path, "control")
    cert, key = server_ca.issue("127.0.0.1", server=True)
    port = free_port()
    control = Nginx(f"""server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
        ssl_protocols TLSv1.1 TLSv1.2; ssl_ciphers DEFAULT:@SECLEVEL=0; return 204; }}""").start(wait_for_port=port)
    try:
        assert _handshake(port, ssl.TLSVersion.TLSv1_1) == "TLSv1.1"
    finally:
        control.stop()


def test_kit_the_deployed_configuration_names_the_tls_versions_and_a_crl():
    conf = SAS_MTLS_CONF.read_text()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf and "ssl_crl /etc/snp/tls/igc-sante-crl.pem;" in conf
