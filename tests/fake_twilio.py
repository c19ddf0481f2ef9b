"""A local stand-in for Twilio's Messages API on 127.0.0.1, for tests and benchmarks.

It checks what Twilio checks (path with the account SID, basic auth, ``To``,
``From`` or ``MessagingServiceSid``, ``Body``), answers JSON shaped like
Twilio's, and can be told to fail the next N sends (500, 429, 400 with a
Twilio error code), to be down (503 for every send) or to answer slowly.

The Messages list (``GET .../Messages.json``) is played as Twilio documents it: filtered by ``To``,
``From`` and the day a message was sent (``DateSent``, ``DateSent<``, ``DateSent>``: a GMT date
``YYYY-MM-DD``, or an instant as the official client writes it; a message not sent yet has no
``date_sent`` and no date filter keeps it), newest sent first, in pages of ``PageSize`` (50 by
default, at most 1,000; ``max_page_size`` makes the fake's pages smaller still), each page naming
the next one in ``next_page_uri``. A message's ``status_callback`` is the fake's own record: the
real API never gives it back.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
_ERRORS = {400: (21211, "The 'To' number is not a valid phone number."), 429: (20429, "Too Many Requests"),
           500: (20500, "Internal Server Error"), 503: (20503, "Service Unavailable")}


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    messages: list[dict] = field(default_factory=list)
    requests: int = 0
    list_requests: int = 0
    max_page_size: int = 1000
    delay: float = 0.0
    down: bool = False
    _failures: list[int] = field(default_factory=list)
    _sids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, times: int, status: int = 500) -> None:
        """The next ``times`` sends answer ``status`` (500, 429 or 400) and are not delivered."""
        with self._lock:
            self._failures.extend([status] * times)

    def add_message(self, to: str, body: str, sent_at: datetime) -> dict:
        """A message the account sent at ``sent_at`` (another sender, an earlier day), as Twilio keeps it."""
        with self._lock:
            message = self._message({"To": to, "From": "+33700000000", "Body": body}, sent_at)
            self.messages.append(message)
            return message

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
            message = self._message(form, datetime.now(timezone.utc))
            self.messages.append(message)
            # As Twilio answers a create: accepted and queued, not sent yet (the fake sends at once).
            return 201, {**_public(message), "status": "queued", "date_sent": None}

    def _message(self, form: dict, now: datetime) -> dict:
        return {
            "sid": f"SM{next(self._sids):032x}", "account_sid": self.account_sid, "to": form["To"],
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"], "status": "sent", "num_segments": "1", "direction": "outbound-api",
            "date_created": format_datetime(now), "date_updated": format_datetime(now),
            "date_sent": format_datetime(now),
            "api_version": "2010-04-01", "price": None, "error_code": None, "error_message": None,
            "status_callback": form.get("StatusCallback"),
        }

    def _list(self, path: str, query: dict[str, str]) -> tuple[int, dict]:
        """One page of the Messages list, as Twilio serves it."""
        try:
            page_size = int(query.get("PageSize", 50))
            page = int(query.get("Page", 0))
            kept = [_date_filter(query[name], name) for name in ("DateSent", "DateSent<", "DateSent>") if name in query]
        except ValueError:
            return 400, {"code": 20001, "message": "Invalid filter or page", "status": 400}
        if not 1 <= page_size <= 1000:
            return 400, {"code": 20001, "message": "PageSize must be between 1 and 1000", "status": 400}
        with self._lock:
            self.list_requests += 1
            found = [m for m in self.messages if query.get("To") in (None, m["to"])
                     and query.get("From") in (None, m["from"]) and all(keep(_sent(m)) for keep in kept)]
        found.sort(key=lambda m: (_sent(m) or datetime.max.replace(tzinfo=timezone.utc), m["sid"]), reverse=True)
        start = 0
        if query.get("PageToken"):  # "PA" + the last SID of the previous page
            sids = [m["sid"] for m in found]
            start = sids.index(query["PageToken"][2:]) + 1 if query["PageToken"][2:] in sids else len(found)
        size = min(page_size, self.max_page_size)
        chunk = found[start:start + size]
        first_query = {key: value for key, value in query.items() if key not in ("Page", "PageToken")}
        next_uri = None
        if start + size < len(found):
            next_uri = f"{path}?{urlencode(first_query | {'Page': page + 1, 'PageToken': 'PA' + chunk[-1]['sid']})}"
        return 200, {"messages": [_public(m) for m in chunk], "page": page, "page_size": size,
                     "uri": f"{path}?{urlencode(query)}", "first_page_uri": f"{path}?{urlencode(first_query)}",
                     "next_page_uri": next_uri, "previous_page_uri": None, "start": start,
                     "end": start + max(len(chunk) - 1, 0)}


def _public(message: dict) -> dict:
    """A message as the API shows it: without the fake's own record of the status callback."""
    return {key: value for key, value in message.items() if key != "status_callback"}


def _sent(message: dict) -> datetime | None:
    return parsedate_to_datetime(message["date_sent"]) if message["date_sent"] else None


def _date_filter(value: str, name: str):
    """Twilio's DateSent filters: a GMT date (the whole day) or an instant (``YYYY-MM-DDTHH:MM:SSZ``)."""
    if "T" in value:
        instant = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        first, last = instant, instant
    else:
        first = datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        last = first + timedelta(days=1) - timedelta(microseconds=1)
    if name == "DateSent>":  # on or after (midnight of) the date
        return lambda sent: sent is not None and sent >= first
    if name == "DateSent<":  # on or before the date
        return lambda sent: sent is not None and sent <= last
    return lambda sent: sent is not None and first <= sent <= last


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
            """The Messages list (used to look for a half-sent message before any resend)."""
            if not self._authorised():
                return
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            self._reply(*fake._list(parts.path, query))

    return Handler
