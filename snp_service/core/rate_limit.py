"""A request budget per key (a client address) for pages open to anyone, such as the patient's link.

Counted with the ``limits`` package in this process's memory (``RATELIMIT_STORAGE_URI``, default
``memory://``; a ``redis://`` URI shares the count between workers and instances if the redis client is
installed): a GET must not write to the database, so the sign-in throttle's table is not the place.
With N workers and the memory storage, one address gets at most N times its budget.
"""
from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import parse, storage, strategies

_EXTENSION = "snp_rate_limit"


def _limiter(app: Flask) -> strategies.MovingWindowRateLimiter:
    limiter = app.extensions.get(_EXTENSION)
    if limiter is None:
        limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(app.config.get("RATELIMIT_STORAGE_URI", "memory://")))
        app.extensions[_EXTENSION] = limiter
    return limiter


def hit(budget: str, key: str) -> int:
    """Count one request of ``key`` against the configured budget ``budget`` ("N per M minutes");
    0 if within it, else the seconds until the next request is allowed."""
    limit = parse(current_app.config[budget])
    limiter = _limiter(current_app._get_current_object())
    if limiter.hit(limit, budget, key):
        return 0
    reset_at = limiter.get_window_stats(limit, budget, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))
