"""/api/v1/supplements: the SNP supplement statement (JSON, or CSV for French Excel)."""
import csv
import io
from datetime import datetime

from flask import Response

from .. import seasons, supplements
from ..errors import NotFound
from ..policy import check_cpts, require_roles, supplement_lines_for
from .blueprint import Blueprint
from .schemas.supplements import StatementQuerySchema, StatementSchema

URL_PREFIX = "/supplements"
blp = Blueprint("supplements", __name__, description="Supplement statements")

EXCLUSION_LABELS = {
    "treating_doctor": "Médecin traitant du patient",
    "delay_over_48h": "Créneau à plus de 48 h de la réservation",
    "pdsa_hours": "Horaires de permanence des soins (PDSA)",
    "weekly_cap": "Plafond hebdomadaire d'actes atteint",
}


@blp.route("", methods=["GET"])
@require_roles("coordinator", "gp", "admin")
@blp.arguments(StatementQuerySchema(), location="query")
@blp.response(200, StatementSchema)
def get_statement(query, user):
    check_cpts(user, query["cpts_id"])
    own = supplement_lines_for(user)
    if "season_id" in query:
        season = seasons.get_season(query["season_id"])
        if season.cpts_id != query["cpts_id"]:
            raise NotFound("Saison introuvable dans cette CPTS")
        statement = {"season": season.name, **supplements.period_statement(
            query["cpts_id"], season.start_date, season.end_date, practitioner_id=own, detail=query["detail"])}
    else:
        statement = supplements.statement(query["cpts_id"], query["month"], practitioner_id=own,
                                          detail=query["detail"])
    if query["format"] == "csv":
        return _csv_response(statement, query)
    return statement


def _csv_response(statement: dict, query: dict) -> Response:
    # French Excel: UTF-8 with a BOM, semicolons, decimal commas.
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    if query["detail"]:
        writer.writerow(["RPPS", "Nom", "Prénom", "Réservation", "Date", "Heure", "Canal", "Éligible", "Motif d'exclusion"])
        for line in statement["lines"]:
            for act in line["acts"]:
                start = datetime.fromisoformat(act["start"])  # already Europe/Paris
                writer.writerow([*_who(line), act["booking_id"], f"{start:%d/%m/%Y}", f"{start:%H:%M}", act["channel"],
                                 "oui" if act["eligible"] else "non", EXCLUSION_LABELS.get(act["excluded_by"], "")])
    else:
        writer.writerow(["RPPS", "Nom", "Prénom", "Actes", "Montant (€)"])
        for line in statement["lines"]:
            writer.writerow([*_who(line), line["acts"], _euros(line["amount_cents"])])
        writer.writerow(["Total", "", "", "", _euros(statement["total_cents"])])
    filename = f"majorations-snp-{query['cpts_id']}-{query.get('month') or 'saison-' + str(query['season_id'])}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _who(line: dict) -> list[str]:
    return [line["rpps"], _cell(line["last_name"]), _cell(line["first_name"])]


def _cell(text: str) -> str:
    # A name starting with = + - @ would run as a formula in Excel.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"
