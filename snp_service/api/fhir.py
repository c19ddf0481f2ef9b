"""/api/v1/fhir: free slots as FHIR R4 (SMART Scheduling Links bulk publish), public and read-only."""
from flask import Response, current_app
from flask_smorest import Blueprint

from .. import fhir_publish
from ..errors import NotFound

URL_PREFIX = "/fhir"
blp = Blueprint("fhir", __name__, description="FHIR slot publishing")
_KIND_BY_FILE = {name: kind for kind, name in fhir_publish.RESOURCE_FILES.items()}


def _base_url() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/v1/fhir"


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
    return fhir_publish.manifest(_base_url())


@blp.route("/<string:filename>", methods=["GET"])
@blp.doc(responses={"200": {"description": "FHIR R4 resources (Location, Schedule or Slot), one JSON object a line",
                            "content": {"application/fhir+ndjson": {"schema": {"type": "string"}}}}})
def resource_file(filename):
    """One NDJSON file of resources."""
    kind = _KIND_BY_FILE.get(filename)
    if kind is None:
        raise NotFound("Fichier FHIR inconnu")
    return Response(list(fhir_publish.resources(kind)), mimetype="application/fhir+ndjson",
                    headers={"Cache-Control": "public, max-age=60"})
