"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn_conf.py wsgi:app``.

Sync workers, one per core plus one (``WEB_CONCURRENCY`` overrides). A request is
mostly Python on the CPU between short database round trips, so threads would only
take turns on each worker's interpreter lock: on the 2-core benchmark machine,
3 sync workers booked about 1.8 times as fast as 2 workers of 8 threads
(``benchmarks/bench_booking.py``, docs/performance.md). Put a buffering proxy
(nginx) in front, as gunicorn advises for sync workers: ``deploy/nginx/snp.conf``.

A killed master must not leave the instance dark (issue 15, item 11): its workers die
with it (``post_fork``), and the restart (systemd ``Restart=always``) binds the port even
while a dying worker still holds it (``reuse_port``).
"""
import ctypes
import multiprocessing
import os
import signal

bind = os.environ.get("SNP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# SO_REUSEPORT: without it, a master restarted while an orphaned worker of the old one still
# listens fails with "Address already in use".
reuse_port = True
# The access log goes to the standard output (journald under systemd) unless SNP_ACCESS_LOG names
# a file; the calendar feed's secret token is masked in it (snp_service/secret_masking.py).
accesslog = os.environ.get("SNP_ACCESS_LOG", "-")
logger_class = "snp_service.secret_masking.MaskingGunicornLogger"
# Who is behind the proxy is decided once, by the app (ProxyFix, SNP_TRUSTED_PROXIES): gunicorn
# must not set the scheme from X-Forwarded-Proto on its own.
secure_scheme_headers = {}

_PR_SET_PDEATHSIG = 1


def post_fork(server, worker):
    """Each worker asks the kernel for SIGTERM when its master dies (Linux ``prctl``): a SIGKILLed
    master's workers finish the request at hand and exit, instead of serving on, unsupervised (gunicorn's
    own check of the parent runs only when no connection is waiting: under load, never)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        server.log.warning("worker %s: prctl(PR_SET_PDEATHSIG) failed (errno %s)", worker.pid, ctypes.get_errno())
    if os.getppid() != server.pid:  # the master died before the request above
        os._exit(0)
