"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""
import gc

from snp_service import create_app

app = create_app()
# What start-up built (app, models, compiled statements) lives as long as the process: frozen,
# it is no longer walked by every full garbage collection, which otherwise adds milliseconds
# to the requests that trigger one.
gc.freeze()
