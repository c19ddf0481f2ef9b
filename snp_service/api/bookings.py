"""/api/v1/bookings: book, cancel, move, record outcomes."""
from flask_smorest import Blueprint

URL_PREFIX = "/bookings"
blp = Blueprint("bookings", __name__, description="Bookings")
