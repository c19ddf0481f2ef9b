"""Server-rendered pages, in French, phone first."""
from __future__ import annotations

import time

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import formatting
from ..accounts import known_devices, page_sessions, setup_links, sign_in
from ..accounts import psc as psc_accounts
from ..accounts import second_factor
from ..core.extensions import db
from ..core.errors import DomainError, Invalid, NotFound, Unauthorized
from ..models import Role
from .forms import FrenchForm
from .redirects import local_target

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")

# Between the right password and the second factor: what the session remembers, how long, how many codes.
PENDING_KEY, PENDING_MINUTES, MAX_CODE_TRIES = "_snp_second_factor_pending", 5, 5
ROLE_HOMES = {Role.GP: "gp.home", Role.REGULATOR: "regulation.home", Role.COORDINATOR: "coordination.home",
              Role.ADMIN: "coordination.home"}


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=200)])


class SecondFactorForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=second_factor.MAX_CODE_LENGTH)])


class PasswordSetupForm(FrenchForm):
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField("Confirmez le mot de passe", validators=[
        DataRequired(), Length(max=200), EqualTo("password", message="Les deux mots de passe ne sont pas identiques.")])


# The set-up page's URL holds its secret: its own requests (style sheets, the form's POST) name only our
# origin, which the CSRF check over HTTPS still reads, and nothing else ever gets a referrer from it.
_SETUP_HEADERS = {"Referrer-Policy": "strict-origin", "Cache-Control": "no-store"}


def register_pages(app: Flask) -> None:
    from . import account, aide, coordination, cpts_record, gp, members, messages, patient_link, practice, psc, regulation

    formatting.register(app)
    app.register_blueprint(pages)
    for module in (gp, regulation, coordination, messages, cpts_record, members, practice, aide, psc, account, patient_link):
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
    from . import psc

    offer_psc = psc_accounts.configured()
    if (request.method == "GET" and offer_psc and request.args.get("mode") != "password"
            and psc.is_sas_booking_link(local_target(request.args.get("next")))):
        # The SAS platform's booking link, opened signed out: straight to Pro Santé Connect (ANS test kit).
        return redirect(url_for("psc.start", next=local_target(request.args.get("next"))))
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        devices = request.cookies.get(known_devices.COOKIE_NAME)
        try:
            user = sign_in.sign_in(form.email.data, form.password.data, request.remote_addr, devices)
        except (sign_in.TooManyAttempts, Unauthorized):
            # Locked or wrong, the page reads the same (issue 25): nothing tells whether the account exists
            # or is locked, and the person learns what to do in either case.
            error, status = sign_in.REFUSED_ON_PAGE, 401
        else:
            return _after_password(user, local_target(request.args.get("next")), devices)
    psc_url = url_for("psc.start", next=local_target(request.args.get("next"))) if offer_psc else None
    return render_template("login.html", form=form, error=error, psc_url=psc_url), status, headers


def _after_password(user, target: str | None, devices: str | None):
    """The password was right: the second factor's code next if the account has one, its enrolment if one is
    required and missing, else signed in. Until then nothing is signed in: the session only remembers who
    typed the right password, for ``PENDING_MINUTES`` and ``MAX_CODE_TRIES`` codes."""
    if second_factor.enrolled(user.id) or second_factor.must_enrol(user):
        session[PENDING_KEY] = {"user_id": user.id, "next": target, "at": time.time(), "tries": 0}
        if second_factor.enrolled(user.id):
            return redirect(url_for("pages.second_factor_step"))
        return redirect(url_for("account.second_factor"))
    return finish_sign_in(user, target, devices)


def finish_sign_in(user, target: str | None, devices: str | None):
    _open_page_session(user)
    response = redirect(target or home_url(user))
    _remember_device(response, user, devices)
    return response


def pending_user():
    """Who typed the right password and has their second factor to give (or to enrol), if anyone."""
    from ..models import User

    pending = session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_MINUTES * 60:
        session.pop(PENDING_KEY, None)
        return None, None
    user = db.session.get(User, pending["user_id"])
    return (user, pending.get("next")) if user is not None and user.active else (None, None)


@pages.route("/login/second-factor", methods=["GET", "POST"])
def second_factor_step():
    """The code after the password: the authenticator app's, or a recovery code."""
    user, target = pending_user()
    if user is None or not second_factor.enrolled(user.id):
        flash("Reconnectez-vous : la connexion a expiré.", "error")
        return redirect(url_for("pages.login", next=target))
    form = SecondFactorForm()
    error, status = None, 200
    if form.validate_on_submit():
        if second_factor.verify(user, form.code.data):
            session.pop(PENDING_KEY, None)
            return finish_sign_in(user, target, request.cookies.get(known_devices.COOKIE_NAME))
        sign_in.record_failure(user.email, request.remote_addr, request.cookies.get(known_devices.COOKIE_NAME))
        pending = session[PENDING_KEY]
        pending["tries"] += 1
        if pending["tries"] >= MAX_CODE_TRIES:
            session.pop(PENDING_KEY, None)
            flash("Trop de codes incorrects : reconnectez-vous.", "error")
            return redirect(url_for("pages.login", next=target))
        session[PENDING_KEY] = pending
        error, status = "Code incorrect.", 401
    return render_template("second_factor_step.html", form=form, error=error), status


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
    from .psc import ID_TOKEN_KEY, end_session_target

    if current_user.is_authenticated:
        page_sessions.sign_out(current_user._get_current_object())
    psc_id_token = session.get(ID_TOKEN_KEY)
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    # Signed in with Pro Santé Connect: PSC ends its own session too, then sends the browser back to /login. A page
    # that moves on by itself, not a redirect: the CSP's form-action ('self') also governs a form's redirects.
    end_session_url = end_session_target(psc_id_token)
    if end_session_url:
        return render_template("psc_signed_out.html", end_session_url=end_session_url)
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
