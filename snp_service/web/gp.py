"""The GP's pages: publish SNP slots, see today's bookings, record outcomes."""
from flask import Blueprint, render_template

from ..policy import require_roles

bp = Blueprint("gp", __name__, url_prefix="/gp")


@bp.get("")
@require_roles("gp")
def home(user):
    return render_template("gp/home.html", practitioner=user.practitioner)
