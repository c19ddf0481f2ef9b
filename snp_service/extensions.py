"""Flask extensions, created unbound here and wired in ``create_app``."""
from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so Alembic migrations are stable across databases.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class SnpApi(Api):
    """flask-smorest Api whose error handlers are ours (one JSON format, HTML for pages).

    Its error responses in the document are ours too: ``api.openapi.ErrorResponsesPlugin`` replaces
    flask-smorest's (``{code, status, message, errors}``, a format this service never answers).
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """The plugin registers the error responses (flask-smorest's would describe its ErrorSchema)."""

    def _register_error_handlers(self):
        """Ours are registered app-wide by ``api.errors.register_error_handlers``."""


# expire_on_commit=False: services return objects that views serialise after the commit.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def sign_in_limit(**options):
    """Decorator: the sign-in rate limit (``RATELIMIT_LOGIN``), the service's only rate limit."""
    def decorator(view):
        limited = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], **options)(view)
        limited.snp_sign_in = True  # functools.wraps carries it through any decorator above
        return limited
    return decorator


@limiter.request_filter
def _not_a_sign_in() -> bool:
    # Every other request skips the limiter, which would otherwise resolve (empty) limits for each.
    return not getattr(current_app.view_functions.get(request.endpoint), "snp_sign_in", False)

api = SnpApi()
