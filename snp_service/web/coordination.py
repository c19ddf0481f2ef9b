"""The coordinator's pages: dashboard, members and their access, seasons, season report and comparison, statement."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import formatting
from ..core.errors import DomainError
from ..accounts import lockout, second_factor, setup_links, users
from ..models import Role
from ..core.timeutil import month_in_bounds, paris_today
from ..cpts.practitioners import list_practitioners
from ..cpts.record import get_cpts
from ..policy import (
    COORDINATION, check_cpts, coordinated_cpts, managed_account, managed_season, may_manage_account, require_roles,
    supplement_lines_for,
)
from ..practice import runs as practice_runs
from ..reporting import charts, dashboard, seasons
from ..supplements import rules, statements
from . import flash_outcome
from .forms import FrenchForm

bp = Blueprint("coordination", __name__, url_prefix="/coordination")

class SeasonForm(FrenchForm):
    name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    start_date = DateField("Premier jour", validators=[DataRequired()])
    end_date = DateField("Dernier jour", validators=[DataRequired()])


class AccountForm(FrenchForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe provisoire", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Rôle", choices=[SelectChoice(Role.REGULATOR, formatting.ROLE_LABELS[Role.REGULATOR]),
                                        SelectChoice(Role.GP, "Médecin (praticien)")])
    practitioner_id = SelectField("Praticien (compte médecin uniquement)", coerce=int)


def page_cpts_id(user) -> int:
    """The CPTS of a coordination page (this one's and the members page's): ``?cpts_id=`` among those the user coordinates, else the first."""
    choices = coordinated_cpts(user)
    if not choices:
        abort(404)
    cpts_id = request.values.get("cpts_id", type=int) or choices[0].id
    check_cpts(user, cpts_id, manage=True)
    return cpts_id


def _account_form(practitioners) -> AccountForm:
    """The account form, whose practitioner choices are the CPTS's members."""
    form = AccountForm()
    form.practitioner_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(p.id, f"{p.display_name} ({p.rpps})") for p in practitioners]
    return form


@bp.get("")
@require_roles(COORDINATION)
def home(user):
    cpts_id = page_cpts_id(user)
    return _home(user, cpts_id)


def _home(user, cpts_id: int, account_form: AccountForm | None = None):
    """The dashboard; with ``account_form``, a refused account creation shown with what was typed and its errors."""
    board = dashboard.dashboard(cpts_id)
    form = account_form or _account_form(board.practitioners)
    if account_form is None:
        form.process(formdata=None)
    return render_template("coordination/home.html", board=board, cpts_id=cpts_id, cpts_list=coordinated_cpts(user),
                           season_form=SeasonForm(formdata=None), account_form=form, roles=formatting.ROLE_LABELS,
                           manageable={a.id for a in board.accounts if may_manage_account(user, a)},
                           practice_runs=practice_runs.by_regulator({cpts_id}),
                           locked=lockout.locked_ids(board.accounts), enrolled=second_factor.enrolled_ids(board.accounts)), \
        422 if form.errors else 200


@bp.post("/seasons")
@require_roles(COORDINATION)
def create_season(user):
    cpts_id = page_cpts_id(user)
    form = SeasonForm()
    if _valid(form):
        flash_outcome(lambda: seasons.create_season(user, form.data | {"cpts_id": cpts_id}), "Saison créée.")
    return redirect(url_for(".home", cpts_id=cpts_id))


@bp.post("/seasons/<int:season_id>")
@require_roles(COORDINATION)
def update_season(season_id, user):
    season = managed_season(user, season_id)
    form = SeasonForm()
    if _valid(form):
        flash_outcome(lambda: seasons.update_season(user, season_id, form.data), "Saison modifiée.")
    return redirect(url_for(".home", cpts_id=season.cpts_id))


@bp.get("/seasons/<int:season_id>")
@require_roles(COORDINATION)
def season_report(season_id, user):
    report = seasons.season_report(managed_season(user, season_id))
    return render_template("coordination/season.html", **charts.season_page(report))


@bp.get("/seasons/compare")
@require_roles(COORDINATION)
def compare(user):
    first = managed_season(user, request.args.get("a", type=int) or 0)
    second = managed_season(user, request.args.get("b", type=int) or 0)
    comparison = seasons.compare(first, second)
    return render_template("coordination/compare.html", comparison=comparison,
                           **charts.comparison_page(comparison))


@bp.post("/accounts")
@require_roles(COORDINATION)
def create_account(user):
    """A new account; refused, the page comes back with what was typed (never the password) and each error
    next to its field."""
    cpts_id = page_cpts_id(user)
    form = _account_form(list_practitioners({cpts_id}))
    if form.validate_on_submit():
        practitioner_id = form.practitioner_id.data or None
        try:
            users.create_user(user, email=form.email.data, password=form.password.data, role=form.role.data,
                              cpts_ids=[cpts_id], practitioner_id=practitioner_id)
        except DomainError as error:
            _attach_account_error(form, error)
        else:
            flash("Compte créé.", "success")
            return redirect(url_for(".home", cpts_id=cpts_id) + "#comptes")
    form.password.data = ""
    form.password.raw_data = []
    return _home(user, cpts_id, form)


def _attach_account_error(form: AccountForm, error: DomainError) -> None:
    placed = False
    for key in error.fields:
        if key in form and key != "csrf_token":
            form[key].errors = list(form[key].errors) + [error.message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


@bp.get("/accounts/<int:account_id>/deactivate")
@require_roles(COORDINATION)
def confirm_deactivate(account_id, user):
    """Deactivating signs someone out for good: the page asks first (no script needed)."""
    cpts_id = page_cpts_id(user)
    return render_template("coordination/confirm_deactivate.html", account=managed_account(user, cpts_id, account_id),
                           cpts_id=cpts_id, roles=formatting.ROLE_LABELS)


@bp.post("/accounts/<int:account_id>/active")
@require_roles(COORDINATION)
def set_account_active(account_id, user):
    active = request.form.get("active") == "1"
    return _on_account(user, account_id, lambda: users.set_user_active(user, account_id, active),
                       "Compte réactivé." if active else "Compte désactivé.")


@bp.post("/accounts/<int:account_id>/unlock")
@require_roles(COORDINATION)
def unlock_account(account_id, user):
    return _on_account(user, account_id, lambda: lockout.unlock(user, account_id), "Compte déverrouillé.")


@bp.post("/accounts/<int:account_id>/second-factor/reset")
@require_roles(COORDINATION)
def reset_second_factor(account_id, user):
    """A lost phone: the account's second factor and recovery codes go; it enrols again at its next sign-in."""
    return _on_account(user, account_id, lambda: second_factor.reset(user, account_id),
                       "Double authentification réinitialisée.")


def _on_account(user, account_id: int, action, done: str):
    """One account action of the accounts table: the account must be one this coordinator manages, in the
    page's CPTS; the outcome is flashed and the table shown again."""
    cpts_id = page_cpts_id(user)
    managed_account(user, cpts_id, account_id)
    flash_outcome(action, done)
    return redirect(url_for(".home", cpts_id=cpts_id) + "#comptes")


@bp.post("/accounts/<int:account_id>/password-link")
@require_roles(COORDINATION)
def issue_password_link(account_id, user):
    """A one-time password set-up link, shown once on this answer (never stored, never flashed): the
    coordinator hands it to the person, since the service sends no e-mail."""
    cpts_id = page_cpts_id(user)
    account = managed_account(user, cpts_id, account_id)
    issued = flash_outcome(lambda: setup_links.issue_setup_link(user, account_id), "Lien créé.")
    if issued is None:
        return redirect(url_for(".home", cpts_id=cpts_id) + "#comptes")
    secret, link = issued
    page = render_template("coordination/password_link.html", account=account, link=link, cpts_id=cpts_id, roles=formatting.ROLE_LABELS,
                           url=url_for("pages.password_setup", secret=secret, _external=True))
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/supplements")
@require_roles(COORDINATION)
def supplements_statement(user):
    """The supplement statement of a month (``?month=YYYY-MM``, this month by default) or of a season."""
    season_id = request.args.get("season_id", type=int)
    season = managed_season(user, season_id) if season_id else None
    cpts_id = season.cpts_id if season else page_cpts_id(user)
    month, month_error = request.args.get("month") or f"{paris_today():%Y-%m}", None
    if not month_in_bounds(month):
        month, month_error = f"{paris_today():%Y-%m}", "Mois invalide : choisissez un mois (aaaa-mm)."
    own = supplement_lines_for(user)
    if season:
        statement = statements.season_statement(season, practitioner_id=own, detail=True)
    else:
        statement = statements.statement(cpts_id, month, practitioner_id=own, detail=True)
    query = {"cpts_id": cpts_id} | ({"season_id": season.id} if season else {"month": month})
    return render_template("coordination/supplements.html", statement=statement, season=season, month=month,
                           month_error=month_error, cpts=get_cpts(cpts_id), query=query,
                           seasons=seasons.list_seasons(cpts_id), rules=rules.current_rules()), \
        422 if month_error else 200


def _valid(form: FlaskForm) -> bool:
    if form.validate_on_submit():
        return True
    for field, problems in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        flash(f"{label} : {', '.join(problems)}", "error")
    return False

