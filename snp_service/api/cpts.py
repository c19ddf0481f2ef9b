"""/api/v1/cpts: the CPTS record (admin creates; its coordinator reads and edits)."""

from ..cpts import record
from ..models import Role
from ..policy import COORDINATION, check_cpts, require_roles
from ..reporting import indicators
from .blueprint import Blueprint
from .schemas.cpts import CptsSchema, CptsUpdateSchema
from .schemas.indicators import IndicatorQuerySchema, IndicatorsSchema

URL_PREFIX = "/cpts"
blp = Blueprint("cpts", __name__, description="CPTS records")


@blp.route("", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(CptsSchema())
@blp.response(201, CptsSchema)
def create_cpts(data, user):
    return record.create_cpts(user, data)


@blp.route("/<int:cpts_id>", methods=["GET"])
@require_roles(COORDINATION)
@blp.response(200, CptsSchema)
def get_cpts(cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    return record.get_cpts(cpts_id)


@blp.route("/<int:cpts_id>", methods=["PATCH"])
@require_roles(COORDINATION)
@blp.arguments(CptsUpdateSchema(partial=True))
@blp.response(200, CptsSchema)
def update_cpts(data, cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    return record.update_cpts(user, cpts_id, data)


@blp.route("/<int:cpts_id>/indicators", methods=["GET"])
@require_roles(COORDINATION)
@blp.arguments(IndicatorQuerySchema(), location="query")
@blp.response(200, IndicatorsSchema)
def get_indicators(query, cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    return indicators.read(cpts_id, query["period"])
