"""The signed-in person's own account: the second factor's enrolment (``/account/second-factor``).

Reached signed in (any role), or right after the password when a second factor is required and the account
has none (``pending_user``): enrolling then finishes the sign-in. The service is ``accounts.second_factor``.
"""
from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..accounts import known_devices
from ..accounts import second_factor as factors
from ..core.errors import DomainError
from .forms import FrenchForm

bp = Blueprint("account", __name__, url_prefix="/account")
# The secret shown until the person proves their app holds it (then kept, encrypted, on the server).
CANDIDATE_KEY = "_snp_totp_candidate"
_NO_STORE = {"Cache-Control": "no-store"}


class EnrolForm(FrenchForm):
    code = StringField("Code à 6 chiffres affiché par l'application",
                       validators=[DataRequired(), Length(max=factors.MAX_CODE_LENGTH)])


def _who():
    """(the account, where to go after, whether the sign-in waits for this enrolment)."""
    from . import pending_user

    if current_user.is_authenticated:
        return current_user._get_current_object(), None, False
    user, target = pending_user()
    return user, target, True


@bp.route("/second-factor", methods=["GET", "POST"])
def second_factor():
    from . import PENDING_KEY, _open_page_session, _remember_device, home_url

    user, target, pending = _who()
    if user is None:
        return redirect(url_for("pages.login"))
    if factors.enrolled(user.id):
        return render_template("account/second_factor.html", enrolled=True,
                               codes_left=factors.recovery_codes_left(user.id)), 200, _NO_STORE
    candidate = session.get(CANDIDATE_KEY)
    if not candidate or candidate.get("user_id") != user.id:
        candidate = {"user_id": user.id, "secret": factors.new_secret()}
        session[CANDIDATE_KEY] = candidate
    form, error, status = EnrolForm(), None, 200
    if form.validate_on_submit():
        try:
            codes = factors.enrol(user, candidate["secret"], form.code.data)
        except DomainError as refused:
            error, status = refused.message, 422
        else:
            session.pop(CANDIDATE_KEY, None)
            if pending:
                session.pop(PENDING_KEY, None)
                _open_page_session(user)
            page = render_template("account/recovery_codes.html", codes=codes,
                                   continue_url=target or home_url(user))
            response = make_response(page)
            response.headers.update(_NO_STORE)
            if pending:
                _remember_device(response, user, request.cookies.get(known_devices.COOKIE_NAME))
            return response
    secret = candidate["secret"]
    uri = factors.provisioning_uri(user, secret)
    return render_template("account/second_factor.html", enrolled=False, form=form, error=error, pending=pending,
                           qr=factors.qr_svg(uri),
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4))), status, _NO_STORE
