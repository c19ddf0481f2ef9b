"""SMS backends behind one small interface, chosen by ``SMS_BACKEND``: console, memory, twilio.

``send`` returns the provider's message id or raises one of the outboxes' errors (``core.delivery``):
- ``TransientError``: the message surely did not leave (connection refused,
  5xx, 429); the sender retries later with backoff;
- ``PermanentError``: it never will (invalid number); no retry;
- ``UncertainError``: the provider may have accepted it (timeout after the
  request went out); the sender must ``find`` it before any resend.

``find`` answers whether the provider already holds a message, so a row left
half-sent by a crash is checked, never blindly sent twice: it looks for the
message's own reference (``messages.reference``, the end of its text) among the
messages the provider accepted within the claim's time window.
"""
from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

import requests
from flask import Flask, current_app

from ..core.delivery import PermanentError, TransientError, UncertainError
from ..core.secret_masking import mask_secrets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingSms:
    outbox_id: int
    to: str
    body: str
    status_callback: str | None = None
    reference: str = ""  # how the body ends: the outbox row's reference, looked for by ``find``


class ConsoleBackend:
    """Development default: the SMS is printed, with its outbox id, instead of sent."""

    def send(self, sms: OutgoingSms) -> str:
        print(mask_secrets(f"[SMS #{sms.outbox_id} -> {sms.to}] {sms.body}"), flush=True)
        return f"console-{sms.outbox_id}"

    def find(self, sms: OutgoingSms, window: tuple[datetime, datetime]) -> str | None:
        return None


class MemoryBackend:
    """Tests: messages kept in a list shared by the whole app, ``outbox[i]`` is an ``OutgoingSms``."""

    def __init__(self, store: dict):
        self.store = store

    @property
    def outbox(self) -> list[OutgoingSms]:
        return self.store["sent"]

    def send(self, sms: OutgoingSms) -> str:
        with self.store["lock"]:
            self.outbox.append(sms)
            return f"memory-{next(self.store['sids'])}"

    def find(self, sms: OutgoingSms, window: tuple[datetime, datetime]) -> str | None:
        return None


class TwilioBackend:
    """The official client; ``TWILIO_BASE_URL`` points it at another host (a gateway, a test fake)."""

    def __init__(self, config: dict):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        http_client = TwilioHttpClient(timeout=config["TWILIO_TIMEOUT_SECONDS"])
        self.client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client)
        if config.get("TWILIO_BASE_URL"):
            # Every Messages call goes through the Api domain, whose base_url the client reads per request.
            self.client.api.base_url = config["TWILIO_BASE_URL"].rstrip("/")
        self.sender = {"from_": config["TWILIO_FROM"]} if config.get("TWILIO_FROM") else {
            "messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}

    def send(self, sms: OutgoingSms) -> str:
        with _twilio_errors():
            message = self.client.messages.create(
                to=sms.to, body=sms.body, status_callback=sms.status_callback, **self.sender)
        return message.sid

    def find(self, sms: OutgoingSms, window: tuple[datetime, datetime]) -> str | None:
        """The SID of the message Twilio accepted for this outbox row within ``window`` (the claim), if any.

        Read through Twilio's Messages list, paged (``next_page_uri``), filtered by the number and by
        the days the window covers (``DateSent>``/``DateSent<``: Twilio filters on whole GMT days), then
        here by the exact instants and the row's reference. Never "the last 20 messages to the number":
        a patient may have been sent many others since. If the pages run out of bounds before the end,
        nobody can tell: the check is left for later (``UncertainError``), never a resend.
        """
        first, last = window[0] - CLOCK_SKEW, window[1] + CLOCK_SKEW
        with _twilio_errors():
            for message in self._listed(sms.to, first, last):
                accepted = message.date_created
                if message.body and message.body.endswith(sms.reference) and accepted and first <= accepted <= last:
                    return message.sid
            return None

    def _listed(self, to: str, first: datetime, last: datetime) -> Iterator:
        filters = {"to": to, "page_size": LIST_PAGE_SIZE, "date_sent_after": f"{first:%Y-%m-%d}",
                   "date_sent_before": f"{last + timedelta(days=1):%Y-%m-%d}"}
        if "from_" in self.sender:  # a Messaging Service picks its sender per message: no From filter then
            filters["from_"] = self.sender["from_"]
        page = self.client.messages.page(**filters)
        for _ in range(LIST_MAX_PAGES):
            yield from page
            page = page.next_page()
            if page is None:
                return
        raise UncertainError("lookup_too_long")


# The list's largest page (Twilio allows 1,000), how many pages a look-up may read (a number sent
# 20,000 messages within a few days is not a patient), and how far Twilio's clock may be from ours.
LIST_PAGE_SIZE = 1000
LIST_MAX_PAGES = 20
CLOCK_SKEW = timedelta(minutes=5)


class _twilio_errors:
    """Sort Twilio and network failures into transient, permanent and uncertain."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if error is None:
            return False
        if isinstance(error, TwilioRestException):
            if error.status == 429 or error.status >= 500:
                raise TransientError(f"http_{error.status}") from None
            raise PermanentError(f"twilio_{error.code or error.status}") from None
        if isinstance(error, TwilioException):  # a list page that did not come (its client raises no status)
            raise TransientError("twilio_list") from None
        if isinstance(error, requests.RequestException):
            if _never_reached(error):
                raise TransientError("network") from None
            raise UncertainError("timeout") from None
        return False


def _never_reached(error: requests.RequestException) -> bool:
    """True when the request cannot have reached the provider (refused or unresolved connection)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return type(reason).__name__ in {"NewConnectionError", "NameResolutionError"}
    return False


def get_backend(app: Flask | None = None):
    app = app or current_app
    name = app.config["SMS_BACKEND"]
    if name == "console":
        return ConsoleBackend()
    if name == "memory":
        return MemoryBackend(memory_store(app))
    if name == "twilio":
        return TwilioBackend(app.config)
    raise ValueError(f"unknown SMS_BACKEND {name!r}: choose console, memory or twilio")


def memory_store(app: Flask) -> dict:
    return app.extensions.setdefault(
        "snp_sms_memory", {"sent": [], "lock": threading.Lock(), "sids": itertools.count(1)})
