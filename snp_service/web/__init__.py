"""Server-rendered pages, in French, phone first."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import formatting
from ..accounts import known_devices, page_sessions, setup_links, sign_in
from ..core.errors import DomainError, Invalid, NotFound, Unauthorized
from ..models import Role
from .forms import FrenchForm
from .redirects import local_target

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")

ROLE_HOMES = {Role.GP: "gp.home", Role.REGULATOR: "regulation.home", Role.COORDINATOR: "coordination.home",
              Role.ADMIN: "coordination.home"}


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=200)])


class PasswordSetupForm(FrenchForm):
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField("Confirmez le mot de passe", validators=[
        DataRequired(), Length(max=200), EqualTo("password", message="Les deux mots de passe ne sont pas identiques.")])


# The set-up page's URL holds its secret: its own requests (style sheets, the form's POST) name only our
# origin, which the CSRF check over HTTPS still reads, and nothing else ever gets a referrer from it.
_SETUP_HEADERS = {"Referrer-Policy": "strict-origin", "Cache-Control": "no-store"}


def register_pages(app: Flask) -> None:
    from . import coordination, cpts_record, gp, messages, patient_link, regulation

    formatting.register(app)
    app.register_blueprint(pages)
    for module in (gp, regulation, coordination, messages, cpts_record, patient_link):
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
def login():
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        devices = request.cookies.get(known_devices.COOKIE_NAME)
        try:
            user = sign_in.sign_in(form.email.data, form.password.data, request.remote_addr, devices)
        except sign_in.TooManyAttempts as refused:
            error, status, headers = refused.message, 429, {"Retry-After": str(refused.retry_after)}
        except Unauthorized:
            error, status = "E-mail ou mot de passe incorrect.", 401
        else:
            _open_page_session(user)
            response = redirect(local_target(request.args.get("next")) or home_url(user))
            _remember_device(response, user, devices)
            return response
    return render_template("login.html", form=form, error=error), status, headers


def _remember_device(response, user, devices: str | None) -> None:
    """This browser is now a known device of ``user`` (``known_devices``): the cookie goes only to the
    sign-in page, never to a third-party request, and outlives signing out."""
    response.set_cookie(known_devices.COOKIE_NAME, known_devices.remember(user.id, devices),
                        max_age=known_devices.lifetime(), path=url_for("pages.login"),
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True,
                        samesite="Strict")


def _open_page_session(user) -> None:
    secret = page_sessions.start(user, replacing=session.get(page_sessions.COOKIE_KEY))
    # A new cookie session: nothing from before sign-in (CSRF token included) carries over, not even
    # Flask-WTF's copy of the old token for this request.
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    session[page_sessions.COOKIE_KEY] = secret
    login_user(user)


@pages.post("/logout")
def logout():
    if current_user.is_authenticated:
        page_sessions.sign_out(current_user._get_current_object())
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    return redirect(url_for("pages.login"))


@pages.route("/password-setup/<secret>", methods=["GET", "POST"])
def password_setup(secret):
    """The page a one-time link opens (``setup_links.issue_setup_link``): the person chooses a password."""
    try:
        account = setup_links.setup_link_account(secret)
    except NotFound as refused:
        return render_template("password_setup.html", form=None, error=refused.message), 404, _SETUP_HEADERS
    form = PasswordSetupForm()
    if form.validate_on_submit():
        try:
            setup_links.redeem_setup_link(secret, form.password.data)
        except Invalid as refused:
            form.password.errors = [refused.message]
        except NotFound as refused:  # used up by a concurrent request meanwhile
            return render_template("password_setup.html", form=None, error=refused.message), 404, _SETUP_HEADERS
        else:
            flash("Mot de passe enregistré : connectez-vous.", "success")
            return redirect(url_for("pages.login"))
    status = 422 if form.errors else 200
    return render_template("password_setup.html", form=form, email=account.email, error=None), status, _SETUP_HEADERS
