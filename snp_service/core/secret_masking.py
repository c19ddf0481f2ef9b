"""Secrets that travel in URLs never reach a log: the calendar feed's token (``/calendar/<token>.ics``),
the one-time password set-up link's secret (``/password-setup/<secret>``) and the patient's own link's
(``/r/<secret>``, also inside the SMS text a console backend logs).

The token is the feed's only credential (a calendar application cannot send a header), so a log
line holding it would let whoever reads the log follow that GP's agenda; a set-up link's secret lets
whoever reads it choose the account's password. Three writers are masked:

- this process's own logging (Flask's "Exception on <path>", anything else): every record's message
  goes through ``mask_secrets`` (``install_log_masking``);
- gunicorn's access and error logs: ``MaskingGunicornLogger`` (``config/gunicorn_conf.py``);
- nginx's access log: the ``$snp_log_uri`` map in ``deploy/nginx/snp.conf``, with the same mask.
"""
from __future__ import annotations

import logging
import re

try:  # gunicorn is only there under gunicorn; the rest of the module serves every process.
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object

MASK = "***"
_CALENDAR_TOKEN = re.compile(r"(/calendar/)[^/?#\s\"']+(\.ics)")
_SETUP_SECRET = re.compile(r"(/password-setup/)[^/?#\s\"']+")
# Any /r/<segment>, wherever it stands (a path, a full link in an SMS, under a PUBLIC_URL with a prefix):
# masking a segment that was no secret costs nothing.
_PATIENT_LINK = re.compile(r"(/r/)[^/?#\s\"']+")


def mask_secrets(text: str) -> str:
    if "/calendar/" in text:
        text = _CALENDAR_TOKEN.sub(rf"\g<1>{MASK}\g<2>", text)
    if "/password-setup/" in text:
        text = _SETUP_SECRET.sub(rf"\g<1>{MASK}", text)
    if "/r/" in text:
        text = _PATIENT_LINK.sub(rf"\g<1>{MASK}", text)
    return text


class _MaskedRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return mask_secrets(super().getMessage())


def install_log_masking() -> None:
    """Every log record of the process masks its message (idempotent; keeps any other custom factory)."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(_MaskedRecord)


class MaskingGunicornLogger(_GunicornLogger):
    """gunicorn's logger, with the calendar token masked in every access-log atom (request line, path,
    referrer, raw URI...) and in its error log (``Error handling request <uri>``)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_secrets(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def log(self, lvl, msg, *args, **kwargs):
        super().log(lvl, msg, *_masked(args), **kwargs)

    def critical(self, msg, *args, **kwargs):
        super().critical(_mask_any(msg), *_masked(args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(_mask_any(msg), *_masked(args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(_mask_any(msg), *_masked(args), **kwargs)

    def info(self, msg, *args, **kwargs):
        super().info(_mask_any(msg), *_masked(args), **kwargs)

    def debug(self, msg, *args, **kwargs):
        super().debug(_mask_any(msg), *_masked(args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(_mask_any(msg), *_masked(args), **kwargs)


def _mask_any(value):
    return mask_secrets(value) if isinstance(value, str) else value


def _masked(args: tuple) -> tuple:
    return tuple(_mask_any(arg) for arg in args)
