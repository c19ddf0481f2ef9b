"""GET /calendar/<token>.ics: a practitioner's SNP slots as an iCalendar feed (secret-token access)."""
from flask import Blueprint, Response

from ..slots import calendar_feed

bp = Blueprint("calendar_feed", __name__)


@bp.get("/calendar/<token>.ics")
@bp.get("/api/v1/calendar/<token>.ics", endpoint="feed_api")
def feed(token):
    body = calendar_feed.feed_for_token(token)
    # The URL is the secret: no referrer may leak it. The booked slots carry patients' initials: like
    # every answer without a Cache-Control of its own, no cache keeps it (security_headers).
    return Response(body, mimetype="text/calendar", headers={
        "Referrer-Policy": "no-referrer", "Content-Disposition": 'inline; filename="snp.ics"'})
