"""A guard on the cost of one call, for the tests of hostile requests (issue 28).

Generous on purpose: these are guards, not benchmarks (``benchmarks/bench_refused_requests.py`` measures).
A call that loops forever (dateutil with ``INTERVAL=0``) is interrupted by SIGALRM and the test fails,
instead of hanging the suite: the interruption is a BaseException, so no ``except Exception`` on the way
(Flask's 500 handler included) turns it into an answer.
"""
from __future__ import annotations

import signal
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

# Per request: far above what a refused request costs (milliseconds, a few hundred KiB), far below what
# the hostile inputs of issue 28 cost before they were bounded (seconds to forever, 60-770 MB).
SECONDS = 5.0
PEAK_BYTES = 50 * 1024 * 1024


class TookTooLong(BaseException):
    pass


@dataclass
class Cost:
    seconds: float = 0.0
    peak_bytes: int = 0


@contextmanager
def interrupted_after(seconds: float):
    def stop(_signum, _frame):
        raise TookTooLong(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def bounded(seconds: float = SECONDS, peak_bytes: int = PEAK_BYTES):
    """Run the block; fail when it takes more than ``seconds`` (interrupted then) or allocates more than
    ``peak_bytes`` at its peak (Python allocations, tracemalloc)."""
    cost = Cost()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    interrupted = None
    try:
        with interrupted_after(seconds * 2):
            yield cost
    except TookTooLong as stopped:
        interrupted = str(stopped)  # failed below, outside this handler: its traceback ran through C frames
    finally:
        cost.seconds = time.perf_counter() - started
        cost.peak_bytes = tracemalloc.get_traced_memory()[1]
        if not tracing:
            tracemalloc.stop()
    if interrupted:
        pytest.fail(f"interrupted: {interrupted}", pytrace=False)
    assert cost.seconds < seconds, f"took {cost.seconds:.2f} s"
    assert cost.peak_bytes < peak_bytes, f"allocated {cost.peak_bytes / 2 ** 20:.0f} MiB at its peak"
