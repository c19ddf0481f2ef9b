"""The API's blueprint: flask-smorest's, with the strict JSON body parser.

A subclass rather than a patch of flask-smorest's class: importing the package changes
nothing outside it, and ``register_api`` refuses a module built on the plain class.
"""
from __future__ import annotations

import flask_smorest
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import UnsupportedMediaType


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


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint: its arguments are parsed with ``JsonBodyParser``."""

    ARGUMENTS_PARSER = JsonBodyParser()
