"""/api/v1/reports: fill-rate reports for any period and grouping (coordinator of the CPTS)."""
from flask import Response

from ..core.spreadsheets import CSV_TYPE, XLSX_TYPE
from ..policy import COORDINATION, check_cpts, require_roles
from ..reporting import exports
from ..reporting.fill_rate import full_report, report
from .blueprint import Blueprint
from .schemas.reports import FillRateQuerySchema, ReportSchema

URL_PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Fill-rate reports")

CSV_DESCRIPTION = "format=csv (UTF-8 with BOM; sep and decimal options). " + exports.FILL_RATE_CSV_DOC


def file_formats(blp: Blueprint, json_schema: str, *content_types: str, description: str = ""):
    """Document the files a 200 may also be (CSV, XLSX, HTML), next to its JSON (``json_schema``, a component name).

    flask-smorest keeps only the description of an alt_response on the success status; the media
    types are written into the OpenAPI document here, so that clients (and the contract test) know them.
    """
    schemas = {CSV_TYPE: {"type": "string"}, XLSX_TYPE: {"type": "string", "format": "binary"},
               "text/html": {"type": "string"}}
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}}}
    content |= {t: {"schema": schemas[t]} for t in content_types}
    told = description or "JSON, or with format= the file of that type"
    return blp.doc(responses={"200": {"description": told, "content": content}})


@blp.route("/fill-rate", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(FillRateQuerySchema(), location="query")
@blp.response(200, ReportSchema)
@file_formats(blp, "Report", CSV_TYPE, XLSX_TYPE,
              description="JSON; " + CSV_DESCRIPTION + "; format=xlsx: summary, one sheet per grouping")
def fill_rate(args, user):
    """Offered, filled and fill rate of a CPTS over the Paris days ``from``..``to``, grouped by ``group_by``."""
    check_cpts(user, args["cpts_id"], manage=True)
    start, end = args["start"], args["end"]
    name = f"taux-remplissage-{start}-{end}"
    if args["format"] == "xlsx":
        title = f"Taux de remplissage du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
        return xlsx_response(full_report([args["cpts_id"]], start, end), name, title)
    answer = report([args["cpts_id"]], start, end, args["group_by"])
    if args["format"] == "csv":
        return csv_response(answer["breakdown"], args, f"{name}-{args['group_by']}")
    return answer


def csv_response(rows: list[dict], args: dict, name: str) -> Response:
    body = exports.breakdown_csv(rows, args["group_by"], sep=args["sep"], decimal=args["decimal"])
    return download(body, CSV_TYPE, f"{name}.csv")


def xlsx_response(report: dict, name: str, title: str) -> Response:
    return download(exports.report_xlsx(report, title), XLSX_TYPE, f"{name}.xlsx")


def download(body: bytes, content_type: str, filename: str) -> Response:
    return Response(body, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
