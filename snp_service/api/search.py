"""/api/v1/slots/search: the regulator's search for free slots."""
from flask_smorest import Blueprint

URL_PREFIX = "/slots"
blp = Blueprint("search", __name__, description="Slot search")
