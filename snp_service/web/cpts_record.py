"""The CPTS record page of the coordinator: territory, ACI contract, indicator targets and values."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.validators import NumberRange, Optional

from .. import indicators
from ..cpts import get_cpts, update_cpts
from ..errors import DomainError
from ..models import INDICATORS
from ..policy import check_cpts, require_roles, visible_cpts_ids
from ..timeutil import paris_today

bp = Blueprint("cpts_record", __name__, url_prefix="/coordination/cpts")

# Fractions in the data, percentages on screen.
RATE_CODES = ("fill_rate", "share_without_treating_doctor", "no_show_rate")
# A distribution has no single target.
TARGETABLE = tuple(code for code, _label in INDICATORS if code != "bookings_by_channel")


class TargetsForm(FlaskForm):
    """One decimal field per targetable indicator, added below from the indicator list."""


for _code, _label in INDICATORS:
    if _code in TARGETABLE:
        unit = " (%)" if _code in RATE_CODES else " (€)" if _code == "supplement_cents" else ""
        setattr(TargetsForm, _code, DecimalField(_label + unit, places=None,
                                                 validators=[Optional(), NumberRange(min=0, max=10_000_000)]))


@bp.get("")
@require_roles("coordinator", "admin")
def index(user):
    # An admin sees every CPTS through the API; here, those of their account.
    ids = sorted(visible_cpts_ids(user) or user.cpts_ids)
    if len(ids) == 1:
        return redirect(url_for(".show", cpts_id=ids[0]))
    return render_template("cpts_record/index.html", cpts_list=[get_cpts(i) for i in ids])


@bp.route("/<int:cpts_id>", methods=["GET", "POST"])
@require_roles("coordinator", "admin")
def show(cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    cpts = get_cpts(cpts_id)
    # On POST the submitted form is the whole set of targets: an emptied field removes its target.
    form = TargetsForm(data=_form_targets(cpts.indicator_targets or {}) if request.method == "GET" else None)
    if form.validate_on_submit():
        update_cpts(user, cpts_id, {"indicator_targets": _stored_targets(form)})
        flash("Objectifs enregistrés.", "success")
        return redirect(url_for(".show", cpts_id=cpts_id, period=request.args.get("period")))
    period = request.args.get("period") or f"{paris_today():%Y-%m}"
    try:
        values, period_error = indicators.read(cpts_id, period), None
    except DomainError as error:
        values, period_error = None, error.message
    status = 422 if form.errors or period_error else 200
    return render_template("cpts_record/show.html", cpts=cpts, form=form, period=period, period_error=period_error,
                           rows=_rows(values), quick_periods=_quick_periods(cpts)), status


def _form_targets(targets: dict) -> dict:
    return {code: (value * 100 if code in RATE_CODES else value / 100 if code == "supplement_cents" else value)
            for code, value in targets.items() if code in TARGETABLE and value is not None}


def _stored_targets(form: TargetsForm) -> dict:
    targets = {}
    for code in TARGETABLE:
        value = form[code].data
        if value is not None:
            value = float(value)
            targets[code] = value / 100 if code in RATE_CODES else round(value * 100) if code == "supplement_cents" else value
    return targets


def _rows(values: dict | None) -> list[dict]:
    if values is None:
        return []
    return [{"label": item["label"], "value": _shown(item["code"], item["value"]),
             "target": _shown(item["code"], item["target"]),
             "achievement": "" if item["achievement"] is None else f"{item['achievement'] * 100:.0f} %"}
            for item in values["indicators"]]


def _shown(code: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return " · ".join(f"{channel} : {count}" for channel, count in value.items())
    if code in RATE_CODES:
        return f"{value * 100:.1f} %".replace(".", ",")
    if code == "supplement_cents":
        return f"{value / 100:.2f} €".replace(".", ",")
    return f"{value:g}".replace(".", ",")


def _quick_periods(cpts) -> list[tuple[str, str]]:
    today = paris_today()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    periods = [(f"{today:%Y-%m}", "Ce mois"), (quarter, "Ce trimestre"), (str(today.year), "Cette année")]
    return periods + [(f"season:{season.id}", season.name) for season in cpts.seasons]
