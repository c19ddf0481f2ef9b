"""/api/v1/imports: history import of past seasons."""
from flask_smorest import Blueprint

URL_PREFIX = "/imports"
blp = Blueprint("imports", __name__, description="Imports")
