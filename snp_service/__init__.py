"""SNP service: unscheduled-care slots shared by the GPs of a CPTS and booked by 116 117 regulators."""
from __future__ import annotations

import logging
import os

from flask import Flask, session
from werkzeug.routing import IntegerConverter

from config import load_config

from .core.database import configure_database
from .core.extensions import csrf, db, login_manager, migrate


def create_app(config: str | dict | None = None) -> Flask:
    """Build the application. ``config`` is a config name or a dict of overrides on ``SNP_CONFIG``."""
    app = Flask(__name__, instance_path=os.environ.get("SNP_INSTANCE_DIR") or None, instance_relative_config=False)
    configure_app(app, config)
    configure_logging(app)
    configure_extensions(app)
    configure_outboxes(app)
    configure_blueprints(app)
    configure_cli(app)
    configure_scheduler(app)
    return app


def configure_app(app: Flask, config: str | dict | None) -> None:
    if isinstance(config, dict):
        settings = load_config(config.get("CONFIG_NAME"), overrides=config)
    else:
        settings = load_config(config)
    app.config.update(settings)
    # Before any route: ``<int:...>`` ids beyond the INTEGER columns are a 404, not a database error.
    app.url_map.converters["int"] = IdConverter
    # SQL parameters would carry patient data into exception messages and logs.
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("hide_parameters", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options.setdefault("connect_args", {"timeout": 10, "check_same_thread": False})
        _ensure_sqlite_dir(app.config["SQLALCHEMY_DATABASE_URI"])
    else:
        # Recycle rather than ping on every checkout: a ping is one more round trip per request,
        # and a connection dropped by the server is invalidated on its first error anyway.
        engine_options.setdefault("pool_recycle", 600)
        # An unreachable server must give a prompt 503, not hold the worker for the OS's TCP timeout.
        engine_options.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options


class IdConverter(IntegerConverter):
    """``<int:id>`` bounded by the database's INTEGER range (an explicit ``max=`` still wins)."""

    def __init__(self, map, *args, **kwargs):
        from .core.database import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _ensure_sqlite_dir(uri: str) -> None:
    path = uri.removeprefix("sqlite:///")
    if path and path != uri and not path.startswith(":memory:") and uri != "sqlite://":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def configure_logging(app: Flask) -> None:
    from .core.secret_masking import install_log_masking

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Twilio's client logs each request at INFO, query included: the message look-up before a resend
    # (``find``) asks by the patient's number.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    install_log_masking()


def configure_extensions(app: Flask) -> None:
    from .core import hygiene  # noqa: F401  (models: register every table before Alembic/create_all look)
    from . import models
    from .accounts import page_sessions
    from .core.proxy import install_proxy_fix
    from .core.security_headers import install_security_headers
    from .practice import space as practice_space

    # Input hygiene first, for every endpoint: NFC text, no NUL or lone surrogate, bounded JSON numbers.
    app.request_class = hygiene.CleanRequest
    app.json = hygiene.StrictJSONProvider(app)
    app.before_request(hygiene.check_request)
    db.init_app(app)
    practice_space.install(app)  # before the database's hooks: a practice request reads its own database
    configure_database(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    csrf.init_app(app)
    install_proxy_fix(app)
    install_security_headers(app)
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."

    @login_manager.user_loader
    def load_user(user_id: str):
        # The cookie names the user, but only a live server-side session signs them in.
        return page_sessions.resume(session.get(page_sessions.COOKIE_KEY), int(user_id))


def configure_outboxes(app: Flask) -> None:
    """A commit that queued SMS or calls to the SAS platform wakes their sender (after the commit: nothing leaves
    for a change rolled back)."""
    from .notify import sender as sms_sender
    from .sas import sender as sas_sender

    sms_sender.install(app)
    sas_sender.install(app)


def configure_blueprints(app: Flask) -> None:
    from .api import register_api
    from .web import register_pages

    register_api(app)
    register_pages(app)


def configure_cli(app: Flask) -> None:
    from .cli import snp

    app.cli.add_command(snp)


def configure_scheduler(app: Flask) -> None:
    from .scheduling import start_in_process

    if app.config.get("SCHEDULER_IN_PROCESS"):
        start_in_process(app)
