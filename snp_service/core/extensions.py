"""Flask extensions, created unbound here and wired in ``create_app``."""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .session_routing import RoutingSession


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


# expire_on_commit=False: services return objects that views serialise after the commit. RoutingSession: a request
# may be bound to another database (the practice space's).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = SnpApi()
