"""GET /api/v1/docs: Swagger UI, served by the service itself (no CDN, no inline script).

The assets are the Swagger UI distribution shipped inside the pinned ``flask-swagger-ui`` package
(only its files are used, not its blueprint, whose page starts Swagger UI with an inline script the
Content-Security-Policy refuses). ``swagger-init.js`` reads the document's URL from the page.
"""
from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, render_template, send_from_directory, url_for
from werkzeug.exceptions import NotFound

bp = Blueprint("swagger_ui", __name__)
ASSETS = files("flask_swagger_ui") / "dist"
# What the page loads; anything else in the distribution (its demo index, OAuth pages) is not served.
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                    "favicon-32x32.png", "favicon-16x16.png"})


@bp.get("/api/v1/docs")
def page():
    return render_template("api_docs.html", spec_url=url_for("api-docs.openapi_json"))


@bp.get("/api/v1/docs/assets/<path:filename>")
def asset(filename):
    if filename not in SERVED:
        raise NotFound()
    # Versioned by the pinned package: browsers may keep them a day.
    return send_from_directory(str(ASSETS), filename, max_age=86400)
