"""One JSON line per request, and a request id that ties a user's report to the log (issue 27).

Each request gets an id: nginx's ``X-Request-Id`` (``$request_id``, ``deploy/nginx/snp.conf``) when the socket
peer is a trusted proxy and the value looks like one, else a new one. It is answered in the ``X-Request-Id``
header, written in the request's line and in every other record logged during the request (an error's
traceback included), so "Erreur, réf. X-Request-Id" finds them all.

The line (logger ``snp.request``) holds the time, the request id, the method, the route *template* (never the
path: no id, no calendar token, no set-up secret), the status, the duration in ms and the user's id; never a
query string, a body, a header value, a name or a phone number.

``JsonFormatter`` writes every record of the process as one JSON object (``configure_logging`` in production),
its message masked as every record's is (``core.secret_masking``).
"""
from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect

from ..core.proxy import peer_is_trusted_proxy
from ..core.secret_masking import mask_secrets

HEADER = "X-Request-Id"
# nginx's $request_id is 32 hex digits; other proxies use UUIDs: letters, digits and dashes, bounded.
_ACCEPTED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")
_STARTED = "snp_request_started"

log = logging.getLogger("snp.request")


def install(app: Flask) -> None:
    # First of the hooks: every record of the request, a refusal by a later hook included, carries the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)


def request_id() -> str | None:
    """This request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _begin() -> None:
    g.request_id = _forwarded_id() or uuid.uuid4().hex
    g.setdefault(_STARTED, time.perf_counter())


def _forwarded_id() -> str | None:
    if not peer_is_trusted_proxy(request.environ):
        return None
    value = request.headers.get(HEADER, "")
    return value if _ACCEPTED.match(value) else None


def _finish(response: Response) -> Response:
    if "request_id" not in g:  # a request refused before any hook ran (not expected, but never unlabelled)
        _begin()
    response.headers[HEADER] = g.request_id
    log.info("request", extra={"snp_request": {
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else "unmatched",
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.get(_STARTED, time.perf_counter())) * 1000, 1),
        "user_id": _user_id(),
    }})
    return response


def _user_id() -> int | None:
    """The signed-in caller's id, from what the request already loaded (no query of its own)."""
    user = g.get("api_user") or g.get("_login_user")  # the bearer token's user, or Flask-Login's
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identity = inspect(user).identity if hasattr(user, "_sa_instance_state") else None
    return identity[0] if identity else None


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time (UTC), level, logger, message (masked), request id, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id(),
        }
        entry.update(getattr(record, "snp_request", None) or {})
        if record.exc_info:
            entry["error"] = mask_secrets("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(entry, ensure_ascii=False, default=str)
