"""The coordinator's pages: dashboard, members, seasons, exports."""
from flask import Blueprint, render_template

from .. import directory
from ..policy import require_roles, visible_cpts_ids

bp = Blueprint("coordination", __name__, url_prefix="/coordination")


@bp.get("")
@require_roles("coordinator", "admin")
def home(user):
    practitioners = directory.list_practitioners(visible_cpts_ids(user))
    return render_template("coordination/home.html", practitioners=practitioners)
