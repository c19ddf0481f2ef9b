"""Where a page may send the browser after signing in: only to a page of this service.

Every ``next`` the pages follow goes through ``local_target``. The check reads the target as the
browser will once it is in a ``Location`` header (the WHATWG URL parser): tabs and newlines anywhere
are dropped, leading and trailing spaces and controls are stripped, and a backslash is a slash. So
``/\\t/evil.example``, ``/\\evil.example`` and ``\\\\evil.example`` are all ``//evil.example`` to a
browser: another host. A target is kept only when, read that way (and once more after decoding its
percent escapes, for whatever decodes it again), it is a path of ours that a GET request can reach:
no scheme, no host, not scheme-relative.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

# What the WHATWG URL parser removes before parsing: ASCII tab and newlines anywhere, and C0
# controls or spaces at either end.
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_C0_OR_SPACE = "".join(chr(n) for n in range(0x21))
# Longer than any page address of ours (with its query): anything past it is not a page we link to.
MAX_LENGTH = 2000


def local_target(target: str | None) -> str | None:
    """``target`` as a path of this service that the browser may be sent to, or None."""
    if not target or len(target) > MAX_LENGTH:
        return None
    as_browser = _as_browser_reads(target)
    if as_browser is None or _as_browser_reads(unquote(as_browser)) is None:
        return None
    parts = urlsplit(as_browser)
    if not _routed(parts.path):
        return None
    # Rebuilt from what was checked, so the Location header says exactly that.
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def _as_browser_reads(target: str) -> str | None:
    """The target as a browser parses it, if it is a path on the same origin; else None."""
    text = _TAB_OR_NEWLINE.sub("", target).strip(_C0_OR_SPACE).replace("\\", "/")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        return None
    if not text.startswith("/") or text.startswith("//"):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return None
    return text


def _routed(path: str) -> bool:
    """Whether a GET of ``path`` reaches one of the service's pages (not a redirect, not a 404)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (RequestRedirect, HTTPException):
        return False
    return True
