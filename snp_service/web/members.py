"""The members page of the coordinator (/coordination/membres): list, add from the directory or by hand,
edit, remove from the CPTS, create the member's account."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import BooleanField, EmailField, FloatField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import formatting
from ..accounts import setup_links, users
from ..core.errors import DomainError
from ..cpts import members
from ..cpts.practitioners import create_practitioner, directory_record
from ..data import communes
from ..directory import search as directory_search
from ..models import Profession, Role
from ..policy import COORDINATION, coordinated_cpts, get_practitioner, require_roles
from .coordination import page_cpts_id
from .forms import FrenchForm

bp = Blueprint("members", __name__, url_prefix="/coordination/membres")

PROFESSION_CHOICES = [(p.value, formatting.PROFESSION_LABELS[p]) for p in Profession]
_OPTIONAL = [Optional()]


class MemberForm(FrenchForm):
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)])
    profession = SelectField("Profession", choices=[SelectChoice(v, label) for v, label in PROFESSION_CHOICES])
    rpps = StringField("RPPS (11 chiffres)", validators=[DataRequired(), Length(max=11)])
    phone = StringField("Téléphone du cabinet", validators=[Optional(), Length(max=20)])
    address = StringField("Adresse du cabinet", validators=[Optional(), Length(max=300)])
    commune_insee = SelectField("Commune", validators=[DataRequired(message="Choisissez la commune")])
    postal_code = StringField("Code postal", validators=[Optional(), Length(min=5, max=5)])
    practice_siret = StringField("SIRET du cabinet", validators=[Optional(), Length(max=14)])
    practice_finess = StringField("FINESS du cabinet", validators=[Optional(), Length(max=9)])
    lat = FloatField("Latitude (vide : centre de la commune)", validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField("Longitude (vide : centre de la commune)", validators=[Optional(), NumberRange(-180, 180)])
    sas_participation = BooleanField("Participe au SAS (ses créneaux sont visibles de la plateforme SAS)")


class AccountForm(FrenchForm):
    email = EmailField("E-mail du praticien", validators=[DataRequired(), Length(max=254)])




def _member(user, practitioner_id: int, cpts_id: int):
    """A member of this CPTS the user manages (404 otherwise: another CPTS's members are not theirs to edit)."""
    practitioner = get_practitioner(user, practitioner_id, manage=True)
    if cpts_id not in practitioner.cpts_ids:
        abort(404)
    return practitioner


@bp.get("")
@require_roles(COORDINATION)
def index(user):
    cpts_id = page_cpts_id(user)
    profession = request.args.get("profession") or None
    commune = request.args.get("commune") or None
    query = (request.args.get("q") or "").strip()[:100]
    found = []
    if query:
        departements = directory_search.departements_of({cpts_id})
        found = directory_search.search_directory(query, departements=departements or None, limit=20)
    member_rpps = {row["practitioner"].rpps for row in members.member_rows(cpts_id)}
    return render_template("members/index.html", cpts_id=cpts_id, cpts_list=coordinated_cpts(user),
                           rows=members.member_rows(cpts_id, profession, commune), professions=PROFESSION_CHOICES,
                           communes=members.territory_choices(cpts_id), profession=profession, commune=commune,
                           query=query, found=found, member_rpps=member_rpps,
                           directory=directory_search.current_load())


@bp.route("/nouveau", methods=["GET", "POST"])
@require_roles(COORDINATION)
def new(user):
    """The member form: empty (by hand), or filled from the directory (``?directory_rpps=``), editable either way."""
    cpts_id = page_cpts_id(user)
    data = None
    if request.method == "GET" and request.args.get("directory_rpps"):
        try:
            data = directory_record(request.args["directory_rpps"], {cpts_id})
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".index", cpts_id=cpts_id))
    form = MemberForm(data=data)
    _commune_choices(form, cpts_id)
    if form.validate_on_submit():
        values = _values(form)
        try:
            practitioner = create_practitioner(user, values | {"cpts_ids": [cpts_id]})
        except DomainError as error:
            _attach(form, error)
        else:
            flash(f"{practitioner.display_name} ajouté(e) aux membres.", "success")
            return redirect(url_for(".edit", practitioner_id=practitioner.id, cpts_id=cpts_id) + "#compte")
    return render_template("members/form.html", form=form, cpts_id=cpts_id, practitioner=None,
                           from_directory=bool(data) or bool(request.form.get("from_directory")),
                           account_form=None), 422 if form.errors else 200


@bp.route("/<int:practitioner_id>", methods=["GET", "POST"])
@require_roles(COORDINATION)
def edit(practitioner_id, user):
    cpts_id = page_cpts_id(user)
    practitioner = _member(user, practitioner_id, cpts_id)
    form = MemberForm(obj=practitioner if request.method == "GET" else None)
    form.rpps.data = practitioner.rpps  # another RPPS is another person: not editable
    _commune_choices(form, cpts_id, practitioner.commune_insee)
    if form.validate_on_submit():
        values = {k: v for k, v in _values(form).items() if k != "rpps"}
        try:
            members.update_member(user, practitioner.id, values)
        except DomainError as error:
            _attach(form, error)
        else:
            flash("Fiche enregistrée.", "success")
            return redirect(url_for(".index", cpts_id=cpts_id))
    account = members.account_of(practitioner.id)
    return render_template("members/form.html", form=form, cpts_id=cpts_id, practitioner=practitioner,
                           account=account, account_form=AccountForm(formdata=None),
                           from_directory=False), 422 if form.errors else 200


@bp.route("/<int:practitioner_id>/retirer", methods=["GET", "POST"])
@require_roles(COORDINATION)
def remove(practitioner_id, user):
    """Removing a member asks first: their future free slots are counted, future bookings block it."""
    cpts_id = page_cpts_id(user)
    practitioner = _member(user, practitioner_id, cpts_id)
    if request.method == "POST":
        form = FrenchForm()
        if form.validate_on_submit():
            seen = request.form.get("free_slots", type=int)
            try:
                withdrawn = members.remove_member(user, practitioner.id, cpts_id, seen if seen is not None else -1)
            except DomainError as error:
                flash(error.message, "error")
            else:
                flash(f"{practitioner.display_name} ne fait plus partie de la CPTS"
                      + (f" ; {withdrawn} créneau(x) libre(s) retiré(s)." if withdrawn else "."), "success")
                return redirect(url_for(".index", cpts_id=cpts_id))
    check = members.removal_check(practitioner.id, cpts_id)
    return render_template("members/remove.html", practitioner=practitioner, cpts_id=cpts_id, check=check,
                           channels=formatting.CHANNEL_LABELS)


@bp.post("/<int:practitioner_id>/compte")
@require_roles(COORDINATION)
def create_account(practitioner_id, user):
    """"Créer son compte": a GP account for the member, and its one-time password set-up link shown once."""
    cpts_id = page_cpts_id(user)
    practitioner = _member(user, practitioner_id, cpts_id)
    form = AccountForm()
    if form.validate_on_submit():
        try:
            # A password nobody knows: the member chooses theirs through the link.
            account = users.create_user(user, email=form.email.data, password=secrets.token_urlsafe(24),
                                        role=Role.GP, cpts_ids=[cpts_id], practitioner_id=practitioner.id)
            secret, link = setup_links.issue_setup_link(user, account.id)
        except DomainError as error:
            _attach(form, error)
        else:
            page = render_template("coordination/password_link.html", account=account, link=link, cpts_id=cpts_id,
                                   roles=formatting.ROLE_LABELS, back=url_for(".index", cpts_id=cpts_id),
                                   url=url_for("pages.password_setup", secret=secret, _external=True))
            return page, 200, {"Cache-Control": "no-store"}
    form_page = MemberForm(obj=practitioner)
    form_page.rpps.data = practitioner.rpps
    _commune_choices(form_page, cpts_id, practitioner.commune_insee)
    return render_template("members/form.html", form=form_page, cpts_id=cpts_id, practitioner=practitioner,
                           account=None, account_form=form, from_directory=False), 422


def _commune_choices(form: MemberForm, cpts_id: int, current: str | None = None) -> None:
    """The territory's communes; plus the member's own or the directory's when outside it."""
    choices = [("", "—")] + members.territory_choices(cpts_id)
    for code in {current, form.commune_insee.data} - {None, ""}:
        if code not in {c for c, _ in choices}:
            commune = communes.get(code)
            choices.append((code, f"{commune.name} (hors territoire)" if commune else code))
    form.commune_insee.choices = [SelectChoice(code, label) for code, label in choices]


def _values(form: MemberForm) -> dict:
    values = {name: form[name].data for name in ("last_name", "first_name", "profession", "rpps", "phone", "address",
                                                 "commune_insee", "postal_code", "practice_siret", "practice_finess",
                                                 "lat", "lon", "sas_participation")}
    for key, value in values.items():
        if isinstance(value, str):
            values[key] = value.strip() or None
    if (values["lat"] is None) != (values["lon"] is None):
        values["lat"] = values["lon"] = None
    return values


def _attach(form, error: DomainError) -> None:
    """The service's refusal next to each field it names; the rest as a message at the top of the form."""
    placed = False
    for key, messages in error.fields.items():
        if key in form and key != "csrf_token":
            # The service's ``fields`` are English for the API, except the identifiers' checks, said in French.
            text = messages[0] if error.code == "identifier_invalid" else error.message
            form[key].errors = list(form[key].errors) + [text]
            placed = True
    if not placed:
        form.form_errors.append(error.message)
