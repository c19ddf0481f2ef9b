"""A local stand-in for Twilio's Messages API on 127.0.0.1, for tests and benchmarks.

It checks what Twilio checks (path with the account SID, basic auth, ``To``,
``From`` or ``MessagingServiceSid``, ``Body``), answers JSON shaped like
Twilio's, and can be told to fail the next N sends (500, 429, 400 with a
Twilio error code), to be down (503 for every send) or to answer slowly.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
_ERRORS = {400: (21211, "The 'To' number is not a valid phone number."), 429: (20429, "Too Many Requests"),
           500: (20500, "Internal Server Error"), 503: (20503, "Service Unavailable")}


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    messages: list[dict] = field(default_factory=list)
    requests: int = 0
    delay: float = 0.0
    down: bool = False
    _failures: list[int] = field(default_factory=list)
    _sids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, times: int, status: int = 500) -> None:
        """The next ``times`` sends answer ``status`` (500, 429 or 400) and are not delivered."""
        with self._lock:
            self._failures.extend([status] * times)

    def start(self) -> "FakeTwilio":
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def config(self) -> dict:
        return {"SMS_BACKEND": "twilio", "TWILIO_BASE_URL": self.base_url, "TWILIO_ACCOUNT_SID": self.account_sid,
                "TWILIO_AUTH_TOKEN": self.auth_token, "TWILIO_FROM": "+33700000000"}

    def _accept(self, form: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            status = 503 if self.down else (self._failures.pop(0) if self._failures else None)
            if status:
                code, text = _ERRORS[status]
                return status, {"code": code, "message": text, "more_info": "", "status": status}
            now = datetime.now(timezone.utc)
            message = {
                "sid": f"SM{next(self._sids):032x}", "account_sid": self.account_sid, "to": form["To"],
                "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
                "date_created": format_datetime(now), "date_updated": format_datetime(now), "date_sent": None,
                "api_version": "2010-04-01", "price": None, "error_code": None, "error_message": None,
                "status_callback": form.get("StatusCallback"),
            }
            self.messages.append(message)
            return 201, message


def _handler_for(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            """Keep test output quiet."""

        def _reply(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self) -> bool:
            match = _MESSAGES_PATH.match(urlsplit(self.path).path)
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            if not match or match["sid"] != fake.account_sid:
                self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
                return False
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return False
            return True

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if not self._authorised():
                return
            if fake.delay:
                time.sleep(fake.delay)
            if not form.get("To") or not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
                self._reply(400, {"code": 21604, "message": "A 'To', 'Body' and 'From' are required", "status": 400})
                return
            self._reply(*fake._accept(form))

        def do_GET(self):
            """The Messages list, filtered by ``To``, newest first (used to check a half-sent message)."""
            if not self._authorised():
                return
            to = parse_qs(urlsplit(self.path).query).get("To", [None])[0]
            with fake._lock:
                found = [m for m in reversed(fake.messages) if to in (None, m["to"])]
            self._reply(200, {"messages": found, "page": 0, "page_size": 50, "next_page_uri": None,
                              "first_page_uri": self.path, "previous_page_uri": None, "uri": self.path,
                              "start": 0, "end": max(len(found) - 1, 0)})

    return Handler
