"""/api/v1/fhir: free slots as FHIR R4 (SMART Scheduling Links bulk publish)."""
from flask_smorest import Blueprint

URL_PREFIX = "/fhir"
blp = Blueprint("fhir", __name__, description="FHIR slot publishing")
