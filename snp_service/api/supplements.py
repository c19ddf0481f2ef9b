"""/api/v1/supplements: the SNP supplement statement (JSON, or CSV / XLSX for French Excel)."""
from .. import formatting
from ..core.errors import NotFound
from ..core.spreadsheets import CSV_TYPE, XLSX_TYPE
from ..cpts.record import get_cpts
from ..policy import STATEMENT_READERS, check_cpts, require_roles, supplement_lines_for
from ..reporting import exports, seasons
from ..supplements import statements
from .blueprint import Blueprint
from .reports import download, file_formats
from .schemas.supplements import StatementQuerySchema, StatementSchema

URL_PREFIX = "/supplements"
blp = Blueprint("supplements", __name__, description="Supplement statements")


@blp.route("", methods=["GET"])
@require_roles(STATEMENT_READERS)
@blp.arguments(StatementQuerySchema(), location="query")
@blp.response(200, StatementSchema)
@file_formats(blp, "Statement", CSV_TYPE, XLSX_TYPE, description=(
    "JSON; format=csv (UTF-8 with BOM; sep and decimal options): " + exports.STATEMENT_CSV_DOC
    + " format=xlsx: sheets Synthèse (per practitioner, total) and Détail des actes"))
def get_statement(query, user):
    check_cpts(user, query["cpts_id"])
    own = supplement_lines_for(user)
    files = query["format"] in ("csv", "xlsx")
    detail = query["detail"] or query["format"] == "xlsx"
    if "season_id" in query:
        season = seasons.get_season(query["season_id"])
        if season.cpts_id != query["cpts_id"]:
            raise NotFound("Saison introuvable dans cette CPTS")
        statement = statements.season_statement(season, practitioner_id=own, detail=detail)
        period, name = season.name, f"saison-{season.id}"
    else:
        statement = statements.statement(query["cpts_id"], query["month"], practitioner_id=own, detail=detail)
        period, name = formatting.month(query["month"]), query["month"]
    if not files:
        return statement
    filename = f"majorations-snp-{query['cpts_id']}-{name}"
    if query["format"] == "csv":
        body = exports.statement_csv(statement, detail=query["detail"], sep=query["sep"], decimal=query["decimal"])
        return download(body, CSV_TYPE, f"{filename}{'-actes' if query['detail'] else ''}.csv")
    title = f"Majorations SNP · {get_cpts(query['cpts_id']).name} · {period}"
    return download(exports.statement_xlsx(statement, title), XLSX_TYPE, f"{filename}.xlsx")
