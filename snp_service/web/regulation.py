"""The regulator's console: find a slot during the call, book it, read back the confirmation."""
from flask import Blueprint, render_template

from ..policy import require_roles

bp = Blueprint("regulation", __name__, url_prefix="/regulation")


@bp.get("")
@require_roles("regulator", "coordinator", "admin")
def home(user):
    return render_template("regulation/home.html")
