"""The client behind the reverse proxy: Werkzeug's ``ProxyFix``, applied only to trusted proxies.

``ProxyFix`` alone believes ``X-Forwarded-For`` from anyone, so a client talking to the service
directly could pick the address the sign-in throttle counts. Here the forwarding headers are read
only when the socket peer is one of ``TRUSTED_PROXIES`` (IPs or CIDR networks), through
``PROXY_HOPS`` proxies.

Whether the socket peer is a trusted proxy is decided once per request, here (``is_trusted``: an
IPv4-mapped IPv6 address is its IPv4 address), and kept in the WSGI environ: ``peer_is_trusted_proxy``
is what every other check about the proxy itself reads (the SAS platform's mutual-TLS headers, ``sas.mtls``).
Whatever the peer, ``environ["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"]`` is the socket peer (``socket_peer``).
``TRUSTED_PROXIES`` is a list when the configuration is loaded (``config.load_config``).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ORIGINAL = "werkzeug.proxy_fix.orig"
TRUSTED_PEER = "snp.trusted_proxy"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.1", "10.0.0.0/8"]`` as networks (a bare IP is a /32 or /128)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item and item.strip())


def is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` is one of the trusted proxies (``::ffff:127.0.0.1`` is ``127.0.0.1``)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def socket_peer(environ: dict) -> str | None:
    """The address of whoever opened the connection (the proxy, when there is one)."""
    return environ.get(ORIGINAL, {}).get("REMOTE_ADDR", environ.get("REMOTE_ADDR"))


def peer_is_trusted_proxy(environ: dict) -> bool:
    """Whether this request's socket peer is a trusted proxy, as ``TrustedProxyFix`` decided it."""
    return bool(environ.get(TRUSTED_PEER))


class TrustedProxyFix:
    """WSGI middleware: ``ProxyFix`` for requests whose socket peer is a trusted proxy, nothing for others."""

    def __init__(self, app, trusted: tuple[Network, ...], hops: int = 1):
        self.app = app
        self.trusted = trusted
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops)

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR")
        if is_trusted(peer, self.trusted):
            environ[TRUSTED_PEER] = True
            return self.fixed(environ, start_response)
        environ[TRUSTED_PEER] = False
        # The same record ProxyFix keeps, so readers of the socket peer need not care which path ran.
        environ[ORIGINAL] = {key: environ.get(key) for key in
                             ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME")}
        return self.app(environ, start_response)


def install_proxy_fix(app: Flask) -> None:
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, parse_networks(app.config["TRUSTED_PROXIES"]),
                                   int(app.config["PROXY_HOPS"]))
