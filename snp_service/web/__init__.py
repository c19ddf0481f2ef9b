"""Server-rendered pages, in French, phone first."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .. import accounts, formatting
from ..errors import DomainError, Unauthorized
from ..extensions import sign_in_limit

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")

ROLE_HOMES = {"gp": "gp.home", "regulator": "regulation.home", "coordinator": "coordination.home", "admin": "coordination.home"}


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=200)])


def register_pages(app: Flask) -> None:
    from . import coordination, cpts_record, gp, messages, regulation

    formatting.register(app)
    app.register_blueprint(pages)
    for module in (gp, regulation, coordination, messages, cpts_record):
        app.register_blueprint(module.bp)


def flash_outcome(action, success):
    """Run a page's service call: flash its success (a message, or a function of the result) or its refusal.

    A refused request comes back as a French message on the same page rather than an error
    page, so the user retries in place. Returns the result, or None when refused.
    """
    try:
        result = action()
    except DomainError as error:
        flash(error.message, "error")
        return None
    flash(success(result) if callable(success) else success, "success")
    return result


def home_url(user) -> str:
    return url_for(ROLE_HOMES[user.role])


@pages.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("pages.login"))


@pages.route("/login", methods=["GET", "POST"])
@sign_in_limit(methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except Unauthorized:
            error = "E-mail ou mot de passe incorrect."
        else:
            login_user(user)
            return redirect(_safe_next() or home_url(user))
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


def _safe_next() -> str | None:
    """Only follow a local ``next`` path: never an open redirect."""
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


@pages.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("pages.login"))
