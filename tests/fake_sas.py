"""A fake SAS platform on 127.0.0.1: HTTPS, our client certificate required, FrAppointmentSAS create and
conditional update (``updateCreate``, as its CapabilityStatement says), every call recorded.

``stop()`` takes it down (connections refused), ``start()`` brings it back on the same port; ``slow_next``
makes the next answers come after the client's timeout (the call arrives, the answer does not).
"""
from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .nginx import free_port


@dataclass
class Call:
    method: str
    identifier: str
    status: str
    start: str
    client_cn: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # refused handshakes (no or wrong client certificate) are the point of some tests


class FakeSas:
    def __init__(self, server_cert, server_key, client_ca, port: int | None = None):
        self.port = port or free_port()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(server_cert), str(server_key))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.load_verify_locations(str(client_ca))
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.appointments: dict[str, dict] = {}
        self.created: list[str] = []
        self.slow_next = 0
        self.slow_seconds = 0.0
        self.server: _Server | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/fhir"

    def start(self) -> "FakeSas":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PUT(self):
                fake._handle(self, "PUT")

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.server.socket = self.context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length", 0))) or b"{}")
        peer = handler.connection.getpeercert() or {}
        client_cn = next((value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"), None)
        if parts.path != "/fhir/Appointment" or body.get("resourceType") != "Appointment":
            return self._answer(handler, 400, {"resourceType": "OperationOutcome"})
        identifier = f"{body['identifier'][0]['system']}|{body['identifier'][0]['value']}"
        if method == "PUT" and parse_qs(parts.query).get("identifier") != [identifier]:
            return self._answer(handler, 400, {"resourceType": "OperationOutcome"})
        with self.lock:
            self.calls.append(Call(method, identifier, body["status"], body["start"], client_cn))
            duplicate = method == "POST" and identifier in self.appointments
            if not duplicate:
                if identifier not in self.appointments:
                    self.created.append(identifier)
                self.appointments[identifier] = body
            slow, self.slow_next = self.slow_next > 0, max(self.slow_next - 1, 0)
        if slow:
            time.sleep(self.slow_seconds)
        if duplicate:
            return self._answer(handler, 409, {"resourceType": "OperationOutcome"})
        self._answer(handler, 201 if method == "POST" else 200, body)

    @staticmethod
    def _answer(handler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/fhir+json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (a slow answer)
