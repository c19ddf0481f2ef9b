"""/api/v1/seasons: seasons of a CPTS and their fill-rate report."""
from flask_smorest import Blueprint

URL_PREFIX = "/seasons"
blp = Blueprint("seasons", __name__, description="Seasons")
