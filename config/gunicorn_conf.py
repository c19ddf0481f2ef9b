"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn_conf.py wsgi:app``.

Sync workers, one per core plus one (``WEB_CONCURRENCY`` overrides). A request is
mostly Python on the CPU between short database round trips, so threads would only
take turns on each worker's interpreter lock: on the 2-core benchmark machine,
3 sync workers booked about 1.8 times as fast as 2 workers of 8 threads
(``benchmarks/bench_booking.py``, docs/performance.md). Put a buffering proxy
(nginx) in front, as gunicorn advises for sync workers.
"""
import multiprocessing
import os

bind = os.environ.get("SNP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
