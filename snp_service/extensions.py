"""Flask extensions, created unbound here and wired in ``create_app``."""
from flask_login import LoginManager
from flask_migrate import Migrate
import flask_smorest
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import UnsupportedMediaType


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
    """flask-smorest Api whose error handlers are ours (one JSON format, HTML for pages)."""

    def _register_error_handlers(self):
        """Ours are registered app-wide by ``api.errors.register_error_handlers``."""


class JsonBodyParser(FlaskParser):
    """webargs' parser, strict about JSON bodies: a body that is not JSON is a 415 (webargs would read it as
    "no body", so a PATCH would succeed doing nothing), and JSON nested beyond the parser's recursion
    limit is a 400 instead of a RecursionError (a 500)."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise UnsupportedMediaType("Content-Type must be application/json")
            return webargs_core.missing
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["JSON nested too deeply."]})


# Every flask-smorest Blueprint of the API parses its arguments with it.
flask_smorest.Blueprint.ARGUMENTS_PARSER = JsonBodyParser()

# expire_on_commit=False: services return objects that views serialise after the commit.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = SnpApi()
