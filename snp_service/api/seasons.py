"""/api/v1/seasons: seasons of a CPTS, their fill-rate report and the comparison of two seasons."""
from flask import Response, render_template

from ..core.spreadsheets import CSV_TYPE, XLSX_TYPE
from ..policy import COORDINATION, check_cpts, managed_season, require_roles
from ..reporting import charts, seasons
from .blueprint import Blueprint
from .reports import CSV_DESCRIPTION, csv_response, file_formats, xlsx_response
from .schemas.seasons import (
    CompareQuerySchema, ComparisonSchema, SeasonListQuerySchema, SeasonReportQuerySchema, SeasonReportSchema,
    SeasonSchema, SeasonUpdateSchema,
)

URL_PREFIX = "/seasons"
blp = Blueprint("seasons", __name__, description="Seasons and their fill-rate reports")


@blp.route("", methods=["POST"])
@require_roles(COORDINATION)
@blp.arguments(SeasonSchema())
@blp.response(201, SeasonSchema)
def create_season(data, user):
    check_cpts(user, data["cpts_id"], manage=True)
    return seasons.create_season(user, data)


@blp.route("", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(SeasonListQuerySchema(), location="query")
@blp.response(200, SeasonSchema(many=True))
def list_seasons(args, user):
    check_cpts(user, args["cpts_id"], manage=True)
    return seasons.list_seasons(args["cpts_id"])


@blp.route("/<int:season_id>", methods=["GET"])
@require_roles(COORDINATION)
@blp.response(200, SeasonSchema)
def get_season(season_id, user):
    return managed_season(user, season_id)


@blp.route("/<int:season_id>", methods=["PATCH"])
@require_roles(COORDINATION)
@blp.arguments(SeasonUpdateSchema())
@blp.response(200, SeasonSchema)
def update_season(data, season_id, user):
    managed_season(user, season_id)
    return seasons.update_season(user, season_id, data)


@blp.route("/<int:season_id>/report", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(SeasonReportQuerySchema(), location="query")
@blp.response(200, SeasonReportSchema)
@file_formats(blp, "SeasonReport", CSV_TYPE, XLSX_TYPE, "text/html", description=(
    "JSON; " + CSV_DESCRIPTION + "; format=xlsx: summary, one sheet per grouping; format=html: printable A4 report"))
def season_report(args, season_id, user):
    """The season's report: JSON, CSV of one grouping, XLSX workbook or printable HTML page."""
    report = seasons.season_report(managed_season(user, season_id))
    season = report["season"]
    name = f"saison-{season.start_date}-{season.end_date}"
    if args["format"] == "csv":
        return csv_response(report["breakdowns"][args["group_by"]], args, f"{name}-{args['group_by']}")
    if args["format"] == "xlsx":
        return xlsx_response(report, name, f"{season.cpts.name} · {season.name}")
    if args["format"] == "html":
        return Response(render_template("reports/season.html", **charts.season_page(report)), mimetype="text/html")
    return report | {"group_by": args["group_by"], "breakdown": report["breakdowns"][args["group_by"]]}


@blp.route("/compare", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(CompareQuerySchema(), location="query")
@blp.response(200, ComparisonSchema)
def compare(args, user):
    """Two seasons side by side: each figure, the difference (b - a), weekly fill rates overlaid."""
    return seasons.compare(managed_season(user, args["a"]), managed_season(user, args["b"]))
