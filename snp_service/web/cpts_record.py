"""The CPTS record page of the coordinator: territory, ACI contract, indicator targets and values."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import formatting
from ..core.errors import DomainError
from ..core.timeutil import paris_today
from ..core.identifiers import finess_problem
from ..cpts import record
from ..cpts.record import TARGET_BOUNDS, get_cpts, update_cpts
from ..data import communes
from ..models import INDICATORS
from ..policy import COORDINATION, check_cpts, member_cpts_ids, require_roles
from ..reporting import indicators
from . import flash_outcome
from .forms import FrenchForm

bp = Blueprint("cpts_record", __name__, url_prefix="/coordination/cpts")

# A target is typed in the unit shown: %, € or a count; stored in the indicator's own unit.
SCALE = {"rate": 100, "cents": Decimal("0.01"), "count": 1}
UNIT = {"rate": " (%)", "cents": " (€)", "count": ""}
SUFFIX = {"rate": "\xa0%", "cents": "\xa0€", "count": ""}


class FrenchDecimalField(DecimalField):
    """A decimal typed the French way (``70,5``, ``1 200``), with a French message when it is not a number."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            text = valuelist[0].replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
            try:
                self.data = Decimal(text)
            except InvalidOperation:
                self.data = None
                raise ValueError("Saisissez un nombre, par exemple 70 ou 70,5")
            if not self.data.is_finite():
                self.data = None
                raise ValueError("Saisissez un nombre, par exemple 70 ou 70,5")
        else:
            self.data = None

    def _value(self):
        """The value shown the French way: ``70`` or ``70,5``, never ``70.0``."""
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f").replace(".", ",")


class TargetsForm(FlaskForm):
    """One field per targetable indicator, bounded by ``cpts.TARGET_BOUNDS`` in the unit shown."""


for _code, _label in INDICATORS:
    if _code in TARGET_BOUNDS:
        _low, _high, _kind = TARGET_BOUNDS[_code]
        _low, _high = _low * SCALE[_kind], _high * SCALE[_kind]
        _message = f"Entre {formatting.number(_low)} et {formatting.number(_high)}{SUFFIX[_kind]}"
        setattr(TargetsForm, _code, FrenchDecimalField(_label + UNIT[_kind], places=None, validators=[
            Optional(), NumberRange(min=_low, max=_high, message=_message.replace("%", "%%"))]))


@bp.get("")
@require_roles(COORDINATION)
def index(user):
    # An admin sees every CPTS through the API; here, as a coordinator, those of their account.
    ids = sorted(member_cpts_ids(user))
    if len(ids) == 1:
        return redirect(url_for(".show", cpts_id=ids[0]))
    return render_template("cpts_record/index.html", cpts_list=[get_cpts(i) for i in ids])


@bp.route("/<int:cpts_id>", methods=["GET", "POST"])
@require_roles(COORDINATION)
def show(cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    cpts = get_cpts(cpts_id)
    # On POST the submitted form is the whole set of targets: an emptied field removes its target.
    form = TargetsForm(data=_form_targets(cpts.indicator_targets or {}) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            update_cpts(user, cpts_id, {"indicator_targets": _stored_targets(form)})
        except DomainError as error:
            _attach(form, error)
        else:
            flash("Objectifs enregistrés.", "success")
            return redirect(url_for(".show", cpts_id=cpts_id, period=request.args.get("period")))
    return _page(cpts, form, _identity_form(cpts))


def _page(cpts, form, identity):
    period = request.args.get("period") or f"{paris_today():%Y-%m}"
    try:
        values, period_error = indicators.read(cpts.id, period), None
    except DomainError as error:
        values, period_error = None, error.message
    commune_query = (request.args.get("commune_q") or "").strip()[:100]
    present = {c.insee for c in cpts.communes}
    found = [c for c in communes.search(commune_query, limit=10) if c.insee not in present] if commune_query else []
    status = 422 if form.errors or identity.errors or period_error else 200
    return render_template("cpts_record/show.html", cpts=cpts, form=form, period=period, period_error=period_error,
                           rows=_rows(values), quick_periods=_quick_periods(cpts), identity=identity,
                           commune_query=commune_query, found_communes=found), status


class IdentityForm(FrenchForm):
    population = IntegerField("Population du territoire (habitants)",
                              validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])
    finess = StringField("FINESS de la CPTS", validators=[Optional(), Length(min=9, max=9)])
    aci_signed_on = DateField("Contrat ACI signé le", validators=[Optional()])
    aci_missions = TextAreaField("Missions du contrat ACI (une par ligne)", validators=[Optional(), Length(max=5000)])


def _identity_form(cpts, formdata=None):
    if formdata is not None:
        return IdentityForm()
    return IdentityForm(formdata=None, data={"population": cpts.population, "finess": cpts.finess,
                                             "aci_signed_on": cpts.aci_signed_on,
                                             "aci_missions": "\n".join(cpts.aci_missions or [])})


@bp.post("/<int:cpts_id>/identite")
@require_roles(COORDINATION)
def update_identity(cpts_id, user):
    """Population (hence the size class), FINESS and the ACI contract."""
    check_cpts(user, cpts_id, manage=True)
    cpts = get_cpts(cpts_id)
    identity = IdentityForm()
    if identity.validate_on_submit():
        missions = [line.strip()[:200] for line in (identity.aci_missions.data or "").splitlines() if line.strip()]
        finess = (identity.finess.data or "").strip().upper() or None
        problem = finess_problem(finess) if finess else None
        if problem:
            identity.finess.errors = [problem]
        elif len(missions) > 50:
            identity.aci_missions.errors = ["50 missions au plus"]
        else:
            try:
                update_cpts(user, cpts_id, {"population": identity.population.data, "finess": finess,
                                            "aci_signed_on": identity.aci_signed_on.data, "aci_missions": missions})
            except DomainError as error:
                identity.form_errors.append(error.message)
            else:
                flash("Fiche de la CPTS enregistrée.", "success")
                return redirect(url_for(".show", cpts_id=cpts_id) + "#identite")
    return _page(cpts, TargetsForm(formdata=None, data=_form_targets(cpts.indicator_targets or {})), identity)


@bp.post("/<int:cpts_id>/indicateurs")
@require_roles(COORDINATION)
def recompute_indicators(cpts_id, user):
    """"Recalculer maintenant": the period's values computed and stored now (audited), instead of last night's."""
    check_cpts(user, cpts_id, manage=True)
    period = (request.form.get("period") or f"{paris_today():%Y-%m}")[:30]
    flash_outcome(lambda: indicators.compute(user, cpts_id, period), "Indicateurs recalculés.")
    return redirect(url_for(".show", cpts_id=cpts_id, period=period) + "#indicateurs")


@bp.post("/<int:cpts_id>/communes")
@require_roles(COORDINATION)
def add_commune(cpts_id, user):
    check_cpts(user, cpts_id, manage=True)
    insee = (request.form.get("insee") or "").strip()[:5]
    flash_outcome(lambda: record.add_commune(user, cpts_id, insee), "Commune ajoutée au territoire.")
    return redirect(url_for(".show", cpts_id=cpts_id) + "#territoire")


@bp.post("/<int:cpts_id>/communes/<insee>/retirer")
@require_roles(COORDINATION)
def remove_commune(cpts_id, insee, user):
    check_cpts(user, cpts_id, manage=True)
    flash_outcome(lambda: record.remove_commune(user, cpts_id, insee[:5]), "Commune retirée du territoire.")
    return redirect(url_for(".show", cpts_id=cpts_id) + "#territoire")


def _kind(code: str) -> str:
    return TARGET_BOUNDS[code][2]


def _form_targets(targets: dict) -> dict:
    return {code: Decimal(str(value)) * SCALE[_kind(code)] for code, value in targets.items()
            if code in TARGET_BOUNDS and value is not None}


def _stored_targets(form: TargetsForm) -> dict:
    targets = {}
    for code in TARGET_BOUNDS:
        value = form[code].data
        if value is not None:
            stored = value / SCALE[_kind(code)]
            targets[code] = int(stored.to_integral_value()) if _kind(code) == "cents" else float(stored)
    return targets


def _attach(form: TargetsForm, error: DomainError) -> None:
    """The service's refusal shown next to each field it names."""
    for key in error.fields:
        code = key.removeprefix("indicator_targets.")
        if code in form:
            form[code].errors = list(form[code].errors) + [error.message]


def _rows(values: dict | None) -> list[dict]:
    if values is None:
        return []
    return [{"label": item["label"], "value": _shown(item["code"], item["value"]),
             "computed_at": item.get("computed_at"),
             "target": _shown(item["code"], item["target"]),
             "achievement": "" if item["achievement"] is None else formatting.percent(item["achievement"], 0)}
            for item in values["indicators"]]


def _shown(code: str, value) -> str:
    if value is None:
        return formatting.NONE
    if formatting.FIGURE_KINDS.get(code) == "channels":
        return formatting.channels(value)
    return formatting.figure(value, formatting.FIGURE_KINDS.get(code, "count"))


def _quick_periods(cpts) -> list[tuple[str, str]]:
    today = paris_today()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    periods = [(f"{today:%Y-%m}", "Ce mois"), (quarter, "Ce trimestre"), (str(today.year), "Cette année")]
    return periods + [(f"season:{season.id}", season.name) for season in cpts.seasons]
