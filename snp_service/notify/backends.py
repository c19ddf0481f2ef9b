"""SMS backends behind one small interface, chosen by ``SMS_BACKEND``: console, memory, twilio.

``send`` returns the provider's message id or raises:
- ``TransientSmsError``: the message surely did not leave (connection refused,
  5xx, 429); the sender retries later with backoff;
- ``PermanentSmsError``: it never will (invalid number); no retry;
- ``UncertainSmsError``: the provider may have accepted it (timeout after the
  request went out); the sender must ``find`` it before any resend.

``find`` answers whether the provider already holds a message, so a row left
half-sent by a crash is checked, never blindly sent twice.
"""
from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import Flask, current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingSms:
    outbox_id: int
    to: str
    body: str
    status_callback: str | None = None


class SmsError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class TransientSmsError(SmsError):
    """Network, 5xx or 429: the provider may accept the same message later."""


class PermanentSmsError(SmsError):
    """The provider refused the message itself (invalid number...): never retried."""


class UncertainSmsError(SmsError):
    """No answer after sending (read timeout): the provider may or may not have the message."""


class ConsoleBackend:
    """Development default: the SMS is printed, with its outbox id, instead of sent."""

    def send(self, sms: OutgoingSms) -> str:
        print(f"[SMS #{sms.outbox_id} -> {sms.to}] {sms.body}", flush=True)
        return f"console-{sms.outbox_id}"

    def find(self, sms: OutgoingSms, since: datetime) -> str | None:
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

    def find(self, sms: OutgoingSms, since: datetime) -> str | None:
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

    def find(self, sms: OutgoingSms, since: datetime) -> str | None:
        """The SID of a message to the same number with the same text created since the claim."""
        margin = since - timedelta(minutes=1)
        with _twilio_errors():
            recent = self.client.messages.list(to=sms.to, limit=20)
        for message in recent:
            if message.body == sms.body and message.date_created and message.date_created >= margin:
                return message.sid
        return None


class _twilio_errors:
    """Sort Twilio and network failures into transient, permanent and uncertain."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        from twilio.base.exceptions import TwilioRestException

        if error is None:
            return False
        if isinstance(error, TwilioRestException):
            if error.status == 429 or error.status >= 500:
                raise TransientSmsError(f"http_{error.status}") from None
            raise PermanentSmsError(f"twilio_{error.code or error.status}") from None
        if isinstance(error, requests.RequestException):
            if _never_reached(error):
                raise TransientSmsError("network") from None
            raise UncertainSmsError("timeout") from None
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
