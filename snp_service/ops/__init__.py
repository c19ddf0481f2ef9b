"""Operating the service all year: backups and their restore (backup.py), Prometheus metrics (metrics.py),
the JSON request log (request_log.py)."""
