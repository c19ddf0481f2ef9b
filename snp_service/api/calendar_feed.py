"""GET /calendar/<token>.ics: a practitioner's SNP slots as an iCalendar feed (secret-token access)."""
from flask import Blueprint

bp = Blueprint("calendar_feed", __name__)
