"""/api/v1/reports: fill-rate reports for any period and grouping."""
from flask_smorest import Blueprint

URL_PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Reports")
