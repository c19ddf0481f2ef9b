"""/api/v1/fhir: free slots as FHIR R4 (SMART Scheduling Links bulk publish), public and read-only."""
from flask import Response, current_app

from .. import fhir_publish
from ..errors import NotFound
from .blueprint import Blueprint

URL_PREFIX = "/fhir"
blp = Blueprint("fhir", __name__, description="FHIR slot publishing")
_KIND_BY_FILE = {name: kind for kind, name in fhir_publish.RESOURCE_FILES.items()}


def _base_url() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/v1/fhir"


@blp.route("/$bulk-publish", methods=["GET"])
def bulk_publish():
    """The manifest of the published Location, Schedule and Slot files."""
    return fhir_publish.manifest(_base_url())


@blp.route("/<string:filename>", methods=["GET"])
def resource_file(filename):
    """One NDJSON file of resources."""
    kind = _KIND_BY_FILE.get(filename)
    if kind is None:
        raise NotFound("Fichier FHIR inconnu")
    return Response(list(fhir_publish.resources(kind)), mimetype="application/fhir+ndjson",
                    headers={"Cache-Control": "public, max-age=60"})
