"""The API's blueprint: flask-smorest's, with the strict JSON body parser.

A subclass rather than a patch of flask-smorest's class: importing the package changes
nothing outside it, and ``register_api`` refuses a module built on the plain class.
"""
from __future__ import annotations

from itertools import islice

import flask_smorest
import marshmallow as ma
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType


class JsonBodyParser(FlaskParser):
    """webargs' parser, strict about JSON bodies: a body that is not JSON is a 415 (webargs would read it as
    "no body", so a PATCH would succeed doing nothing); the JSON itself is read by ``hygiene.loads``
    (numbers beyond 64 bits, NaN, NUL bytes, lone surrogates and deep nesting are 400s; text in NFC)."""

    def _raw_load_json(self, req):
        from ..core.hygiene import loads

        if not is_json_request(req):
            if req.get_data(cache=True):
                raise UnsupportedMediaType("Content-Type must be application/json")
            return webargs_core.missing
        data = req.get_data(cache=True)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return self._handle_invalid_json_error(error, req)
        try:
            return loads(data)
        except ValueError as error:  # json.JSONDecodeError: malformed JSON
            return self._handle_invalid_json_error(error, req)


    def pre_load(self, location_data, *, schema, req, location):
        """Unknown keys of a JSON body are refused before the schema reads anything, naming the first few:
        marshmallow would build one error per unknown key (150,000 of them on ``/auth/token``, without an
        account, cost 1.7 s and +60 MB before the JSON budget of ``hygiene`` refused such bodies whole)."""
        if location == "json" and isinstance(location_data, dict) and schema.unknown == ma.RAISE:
            known = {field.data_key or name for name, field in schema.fields.items() if not field.dump_only}
            unknown = list(islice((key for key in location_data if key not in known), MAX_UNKNOWN_REPORTED))
            if unknown:
                raise ma.ValidationError({key: ["Unknown field."] for key in unknown})
        return location_data


# Unknown keys named in a refusal: enough to find a typo, never one error per key.
MAX_UNKNOWN_REPORTED = 5


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint: its arguments are parsed with ``JsonBodyParser``."""

    ARGUMENTS_PARSER = JsonBodyParser()
