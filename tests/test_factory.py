"""Importing the package wires nothing; ``create_app`` wires everything (the Flask tutorial's habit)."""
from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import flask_smorest
import pytest
from sqlalchemy import event

from snp_service.api import register_api_blueprint
from snp_service.core import database
from snp_service.core.extensions import db

ROOT = Path(__file__).resolve().parents[1]

IMPORT_EVERYTHING = """
import pkgutil, importlib, snp_service
for module in pkgutil.walk_packages(snp_service.__path__, "snp_service."):
    importlib.import_module(module.name)
import flask_smorest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from snp_service.accounts import sign_in
from snp_service.core import database
from snp_service.api.blueprint import JsonBodyParser
print(event.contains(Engine, "connect", database._sqlite_on_connect),
      event.contains(Engine, "begin", database._sqlite_on_begin),
      event.contains(Session, "after_flush", database._mark_flushed),
      isinstance(flask_smorest.Blueprint.ARGUMENTS_PARSER, JsonBodyParser),
      sign_in._dummy_hash.cache_info().currsize)
"""


def test_importing_every_module_patches_nothing_and_hashes_nothing():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False", "False", "0"]


def test_the_factory_attaches_the_database_plumbing_to_its_own_engine(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        assert event.contains(engine, "connect", database._sqlite_on_connect)
    assert event.contains(db.session, "after_flush", database._mark_flushed)


def test_an_api_module_on_the_plain_blueprint_is_refused():
    module = types.SimpleNamespace(__name__="snp_service.api.forgotten", URL_PREFIX="/forgotten",
                                   blp=flask_smorest.Blueprint("forgotten", __name__))
    with pytest.raises(TypeError, match="blueprint.Blueprint"):
        register_api_blueprint(module)
