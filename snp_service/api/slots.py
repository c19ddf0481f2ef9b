"""/api/v1/slots: publish, list, withdraw and import SNP slots (GP, coordinator)."""
from flask_smorest import Blueprint

URL_PREFIX = "/slots"
blp = Blueprint("slots", __name__, description="SNP slots")
