"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn_conf.py wsgi:app``.

Sync workers, one per core plus one (``WEB_CONCURRENCY`` overrides). A request is
mostly Python on the CPU between short database round trips, so threads would only
take turns on each worker's interpreter lock: on the 2-core benchmark machine,
3 sync workers booked about 1.8 times as fast as 2 workers of 8 threads
(``benchmarks/bench_booking.py``, docs/performance.md). Put a buffering proxy
(nginx) in front, as gunicorn advises for sync workers: ``deploy/nginx/snp.conf``.

A killed master must not leave the instance dark (issue 15, item 11): its workers die
with it (``post_fork``), and systemd restarts it (``Restart=always``). Under systemd no
straggler holds the port at that moment: once the main process is gone, ``KillMode=mixed``
sends SIGKILL to whatever is left of the unit and waits for it before the restart.

The master binds the port itself and exits non-zero when it cannot (issue 28, item 11):
gunicorn tries five times, a second apart, then exits 1, and ``Restart=always`` tries again.
``reuse_port`` is off for that reason: with it, gunicorn (21 and later) leaves the binding to
each worker, so on a taken port the workers failed and were respawned forever while the
master never exited (and told systemd it was ready before anything listened); and
SO_REUSEPORT let a second instance share a port silently.

nginx in front refuses oversized request lines and headers itself, in the service's error
format (``deploy/nginx/snp.conf``); the limits below are higher, so gunicorn's own plain
answers never reach a client through it.
"""
import ctypes
import multiprocessing
import os
import shutil
import signal
import tempfile
import traceback

bind = os.environ.get("SNP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Above nginx's (large_client_header_buffers 4 4k: a request line or header line of 4 KB at most, about
# 17 KB of headers in all), so that nginx, not gunicorn, answers an oversized request: in the error format.
# The number of header lines is gunicorn's maximum: nginx's 17 KB already bound it.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768
# A request still running after this long is cut (its worker aborted, worker_abort below): nginx answers 502
# in the error format.
timeout = 30
# The access log goes to the standard output (journald under systemd) unless SNP_ACCESS_LOG names
# a file; the calendar feed's secret token is masked in it (snp_service/core/secret_masking.py).
accesslog = os.environ.get("SNP_ACCESS_LOG", "-")
logger_class = "snp_service.core.secret_masking.MaskingGunicornLogger"
# Who is behind the proxy is decided once, by the app (ProxyFix, SNP_TRUSTED_PROXIES): gunicorn
# must not set the scheme from X-Forwarded-Proto on its own.
secure_scheme_headers = {}

# Prometheus metrics (snp_service/ops/metrics.py) in multiprocess mode: each worker writes its counts in this
# folder and /metrics, answered by any worker, adds them up. One folder per instance (a private temporary one
# unless PROMETHEUS_MULTIPROC_DIR names one), emptied when the master starts, so a restart begins at zero;
# set here, before any worker imports prometheus_client.
_METRICS_DIR_MADE = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _METRICS_DIR_MADE:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="snp-metrics-")

_PR_SET_PDEATHSIG = 1


def on_starting(server):
    """The master starts: no counts of an earlier run (or of a killed master) are carried over."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))


def child_exit(server, worker):
    """A worker is gone (exit, crash, timeout): its live gauges stop counting; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _METRICS_DIR_MADE:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_fork(server, worker):
    """Each worker asks the kernel for SIGTERM when its master dies (Linux ``prctl``): a SIGKILLed
    master's workers finish the request at hand and exit, instead of serving on, unsupervised (gunicorn's
    own check of the parent runs only when no connection is waiting: under load, never)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        server.log.warning("worker %s: prctl(PR_SET_PDEATHSIG) failed (errno %s)", worker.pid, ctypes.get_errno())
    if os.getppid() != server.pid:  # the master died before the request above
        os._exit(0)


def worker_abort(worker):
    """gunicorn's timeout (SIGABRT to a worker silent for ``timeout`` seconds): leave at once, unanswered.

    Left to unwind, the abort's SystemExit reached gunicorn, which answered its own plain-text 500 (a
    request waiting on PostgreSQL is interrupted in Python; one waiting in SQLite's C code was killed
    later, unanswered). Gone without an answer, the request gets nginx's 502 in the service's error
    format. Where the request was stuck is logged first: code lines only, never a value.
    """
    stack = "".join(traceback.format_stack()[:-1])
    worker.log.critical("worker %s: request cut by the %s s timeout, at:\n%s", worker.pid, worker.cfg.timeout, stack)
    os._exit(1)
