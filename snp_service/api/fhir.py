"""/api/v1/fhir: free slots as FHIR R4 (SMART Scheduling Links bulk publish), public and read-only.

``_since=<instant>`` on the manifest and the files asks for what changed since; clients may keep each
answer ``fhir_publish.MAX_AGE_SECONDS`` (Cache-Control).
"""
from datetime import datetime

from flask import Response, current_app, jsonify, request

from ..core.errors import NotFound
from ..core.timeutil import instant_in_bounds
from ..sas.outcome import FhirInvalid
from ..slots import fhir_publish
from .blueprint import Blueprint

URL_PREFIX = "/fhir"
blp = Blueprint("fhir", __name__, description="FHIR slot publishing")
_KIND_BY_FILE = {name: kind for kind, name in fhir_publish.RESOURCE_FILES.items()}


def _base_url() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/v1/fhir"


def _cache_headers() -> dict:
    return {"Cache-Control": f"public, max-age={fhir_publish.MAX_AGE_SECONDS}"}


def _since() -> datetime | None:
    raw = request.args.get("_since")
    if raw is None:
        return None
    try:
        since = datetime.fromisoformat(raw.strip().replace(" ", "+"))  # an unencoded "+" arrives as a space
    except ValueError:
        since = None
    if since is None or since.tzinfo is None or not instant_in_bounds(since):
        raise FhirInvalid("_since attend un instant avec son décalage (2026-07-13T08:00:00+02:00)",
                          fields={"_since": ["instant with offset"]})
    return since


_MANIFEST = {"type": "object", "required": ["transactionTime", "request", "output", "error"], "properties": {
    "transactionTime": {"type": "string", "format": "date-time"},
    "request": {"type": "string"},
    "output": {"type": "array", "items": {"type": "object", "required": ["type", "url"],
                                          "properties": {"type": {"type": "string"}, "url": {"type": "string"}}}},
    "error": {"type": "array", "items": {}},
}}


@blp.route("/$bulk-publish", methods=["GET"])
@blp.doc(responses={"200": {"description": "SMART Scheduling Links bulk publish manifest",
                            "content": {"application/json": {"schema": _MANIFEST}}}})
def bulk_publish():
    """The manifest of the published Location, Schedule and Slot files."""
    response = jsonify(fhir_publish.manifest(_base_url(), since=_since()))
    response.headers.update(_cache_headers())
    return response


@blp.route("/<string:filename>", methods=["GET"])
@blp.doc(responses={"200": {"description": "FHIR R4 resources (Location, Schedule or Slot), one JSON object a line",
                            "content": {"application/fhir+ndjson": {"schema": {"type": "string"}}}}})
def resource_file(filename):
    """One NDJSON file of resources."""
    kind = _KIND_BY_FILE.get(filename)
    if kind is None:
        raise NotFound("Fichier FHIR inconnu")
    return Response(list(fhir_publish.resources(kind, since=_since())), mimetype="application/fhir+ndjson",
                    headers=_cache_headers())
