"""/api/v1/supplements: the SNP supplement statement."""
from flask_smorest import Blueprint

URL_PREFIX = "/supplements"
blp = Blueprint("supplements", __name__, description="Supplement statements")
