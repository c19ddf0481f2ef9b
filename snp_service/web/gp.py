"""The GP's page: publish SNP slots, see them week by week, today's bookings and outcomes, their supplements.

Forms post here (Flask-WTF CSRF) with Europe/Paris wall-clock times. A refused publish
comes back as the same page with every value kept and the reason next to its field
(422); the preview asks ``slots.preview`` for a dry run of the same request, so the
count it shows is the count a publish creates.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from .. import formatting
from ..bookings import booking
from ..core.errors import DomainError
from ..core.errors import Invalid
from ..core.timeutil import month_in_bounds, paris_to_utc, paris_today, to_paris, utcnow
from ..cpts import practitioners
from ..cpts.record import commune_names
from ..models import Outcome, Role
from ..policy import member_cpts_ids, require_roles, supplement_lines_for
from ..requests import answering, reading as request_reading
from ..slots import calendar_feed, calendar_import, gp_agenda, publishing
from ..slots.preview import Plan, plan_around, plan_request
from ..supplements import statements
from . import flash_outcome
from .forms import FrenchForm
from .gp_forms import DURATIONS, FORMS, PublishForm, fresh_forms

bp = Blueprint("gp", __name__, url_prefix="/gp")

PREVIEWED_TIMES = 12


class ImportForm(FrenchForm):
    file = FileField("Fichier .ics", validators=[FileRequired("Choisissez un fichier .ics")])
    slot_minutes = SelectField("Découper en créneaux de", choices=DURATIONS, coerce=int, default=15)


def slots_text(count: int) -> str:
    return f"{count} créneau" if count == 1 else f"{count} créneaux"


@bp.get("")
@require_roles(Role.GP)
def home(user):
    return _page(user)


def _page(user, forms: dict | None = None, opened: str = "block", status: int = 200):
    month = request.args.get("month", "")
    if not month_in_bounds(month):
        month = f"{paris_today():%Y-%m}"
    page = {
        "practitioner": user.practitioner, "home": gp_agenda.gp_home(user.practitioner),
        "forms": fresh_forms() | (forms or {}), "opened": opened, "import_form": ImportForm(prefix="ics"),
        "action_form": FrenchForm(), "open_week": request.args.get("week", ""),
        "month": month, "statement": _own_statement(user, month), "outcome_labels": formatting.OUTCOME_LABELS,
        "slot_requests": request_reading.open_for_practitioner(user.practitioner_id),
    }
    return render_template("gp/home.html", **page), status


def _own_statement(user, month: str) -> dict | None:
    """The GP's own line of the month's supplement statement (``policy.supplement_lines_for``)."""
    cpts_ids = sorted(member_cpts_ids(user))
    if not cpts_ids:
        return None
    statement = statements.statement(cpts_ids[0], month, practitioner_id=supplement_lines_for(user), detail=True)
    return statement["lines"][0] if statement["lines"] else {"acts": [], "eligible_acts": 0, "amount_cents": 0}


@bp.post("/<any(block, slot, series):kind>")
@require_roles(Role.GP)
def publish(kind, user):
    form = _form(kind)
    if form.validate_on_submit():
        # "Publier sans les jours déjà occupés" (a block or a series): the occupied days are left out whole.
        around = kind != "slot" and request.form.get("on_conflict") == "skip"
        try:
            if around:
                slots, skipped = publishing.publish_around(user, user.practitioner, form.publish_request())
            else:
                slots, skipped = publishing.publish_request(user, user.practitioner, form.publish_request()), []
        except DomainError as error:
            form.place(error)
        else:
            opened = "ouverts" if len(slots) > 1 else "ouvert"
            left = f" ; jours déjà occupés laissés de côté : {_days_text(skipped)}" if skipped else ""
            flash(f"{slots_text(len(slots))} {opened}{left}", "success")
            return redirect(url_for("gp.home", week=_monday(slots[0].start_at)) + "#agenda-title")
    return _page(user, {kind: form}, opened=kind, status=422)


@bp.post("/preview/<any(block, slot, series):kind>")
@require_roles(Role.GP)
def preview(kind, user):
    """The dry run of a form: ``{count, summary, notes, submit}`` or ``{errors, form_error}`` (field id -> French)."""
    form = _form(kind)
    if form.validate_on_submit():
        try:
            plan = plan_request(user.practitioner, form.publish_request())
        except DomainError as error:
            around = plan_around(user.practitioner, form.publish_request()) if (
                kind != "slot" and error.code == "slot_overlap") else None
            if around is not None and around.intervals:
                # The days that clash, and what a publish without them would open, in one tap.
                return jsonify(count=len(around.intervals), summary=_summary(kind, around), notes=around.notes,
                               clashing=f"Jours déjà occupés : {_days_text(around.clashing_days)}.",
                               skip_submit=f"Publier sans les jours déjà occupés ({slots_text(len(around.intervals))})",
                               submit=None)
            form.place(error)
        else:
            return jsonify(count=len(plan.intervals), summary=_summary(kind, plan), notes=plan.notes,
                           submit=f"Publier {slots_text(len(plan.intervals))}" if kind != "slot" else "Publier le créneau")
    errors = {form[name].id: " ; ".join(problems) for name, problems in form.errors.items() if name in form}
    return jsonify(errors=errors, form_error=" ; ".join(form.form_errors))


def _form(kind: str) -> PublishForm:
    if kind not in FORMS:
        abort(404)
    return FORMS[kind](prefix=kind)


def _summary(kind: str, plan: Plan) -> str:
    if kind == "series":
        days = sorted({to_paris(i.start).date() for i in plan.intervals})
        shown = ", ".join(f"{formatting.weekday(d)[:3]}. {d:%d/%m}" for d in days[:PREVIEWED_TIMES])
        more = " …" if len(days) > PREVIEWED_TIMES else ""
        return f"{slots_text(len(plan.intervals))} sur {len(days)} jour{'s' if len(days) > 1 else ''} : {shown}{more}"
    times = [formatting.clock(i.start) for i in plan.intervals]
    more = " …" if len(times) > PREVIEWED_TIMES else ""
    return f"{slots_text(len(times))} : {', '.join(times[:PREVIEWED_TIMES])}{more}"


def _days_text(days) -> str:
    return ", ".join(f"{formatting.weekday(d)[:3]}. {d:%d/%m}" for d in days)


def _monday(moment: datetime) -> str:
    """The Monday of an instant's Paris week: the week the page opens after a change."""
    day = to_paris(moment).date()
    return (day - timedelta(days=day.weekday())).isoformat()


@bp.post("/slots/<int:slot_id>/withdraw")
@require_roles(Role.GP)
def withdraw(slot_id, user):
    slot = None
    if FrenchForm().validate_on_submit():
        slot = flash_outcome(lambda: publishing.withdraw(user, slot_id), lambda slot: (
            f"Créneau du {formatting.day(slot.start_at)[:5]} à {formatting.clock(slot.start_at)} retiré"))
    return redirect(url_for("gp.home", week=_monday(slot.start_at) if slot else None) + "#agenda-title")


@bp.post("/bookings/<int:booking_id>/outcome")
@require_roles(Role.GP)
def record_outcome(booking_id, user):
    outcome = request.form.get("outcome")
    if FrenchForm().validate_on_submit() and outcome in Outcome.values():
        flash_outcome(lambda: booking.record_outcome(user, booking_id, outcome),
                      lambda done: f"Rendez-vous de {formatting.clock(done.slot.start_at)} : {formatting.OUTCOME_LABELS[outcome]}")
    return redirect(url_for("gp.home") + "#today-bookings")


@bp.post("/import")
@require_roles(Role.GP)
def import_ics(user):
    form = ImportForm(prefix="ics")
    if not form.validate_on_submit():
        flash("Choisissez un fichier .ics", "error")
        return redirect(url_for("gp.home"))
    flash_outcome(lambda: calendar_import.import_calendar(user, user.practitioner, form.file.data.read(),
                                                          form.slot_minutes.data),
                  lambda result: f"Import : {result.created} créneau(x) créé(s), {len(result.skipped)} ignoré(s)")
    return redirect(url_for("gp.home"))


@bp.post("/calendar-token")
@require_roles(Role.GP)
def rotate_calendar_token(user):
    if FrenchForm().validate_on_submit():
        calendar_feed.rotate_token(user, user.practitioner)
        flash("Nouveau lien d'agenda créé : l'ancien ne fonctionne plus", "success")
    return redirect(url_for("gp.home"))


@bp.post("/slot-requests")
@require_roles(Role.GP)
def set_takes_requests(user):
    return _switch(user, "takes", practitioners.set_takes_requests, "#demandes",
                   ("Vous recevrez les demandes de créneau des régulateurs",
                    "Vous ne recevrez plus les demandes de créneau"))


@bp.post("/sas-participation")
@require_roles(Role.GP)
def set_sas_participation(user):
    return _switch(user, "participate", practitioners.set_sas_participation, "#sas",
                   ("Vos créneaux sont visibles sur la plateforme SAS",
                    "Vos créneaux ne sont plus visibles sur la plateforme SAS"))


def _switch(user, field: str, setter, anchor: str, said: tuple[str, str]):
    """One of the GP's own switches: the form's ``field`` ("1" on), the service's ``setter``, the message said
    when it is turned on or off."""
    if FrenchForm().validate_on_submit():
        on = request.form.get(field) == "1"
        flash_outcome(lambda: setter(user, user.practitioner_id, on), said[0] if on else said[1])
    return redirect(url_for("gp.home") + anchor)


@bp.get("/demandes/<int:request_id>")
@require_roles(Role.GP)
def slot_request(request_id, user):
    """A slot request sent to this GP (the SMS's link): what is asked, and a time inside the window to accept."""
    found = answering.load(user, request_id)
    state = request_reading.state(found)
    first = max(found.not_before, utcnow())
    length = answering.usual_length(user.practitioner_id)
    return render_template("gp/slot_request.html", request=found, state=state, action_form=FrenchForm(),
                           first_day=to_paris(first).date(), last_day=to_paris(found.not_after - length).date(),
                           first=to_paris(first), last=to_paris(found.not_after - length), length=length,
                           mine=found.accepted_by_id == user.practitioner_id,
                           profession=formatting.PROFESSION_LABELS.get(found.profession, found.profession),
                           mode=formatting.MODE_LABELS.get(found.mode, found.mode),
                           commune=commune_names(None, {found.commune_insee}).get(found.commune_insee,
                                                                                  found.commune_insee))


@bp.post("/demandes/<int:request_id>/accepter")
@require_roles(Role.GP)
def accept_slot_request(request_id, user):
    """The page's accept: the Paris day and time typed, as the API's ``start``."""
    if not FrenchForm().validate_on_submit():
        return redirect(url_for("gp.slot_request", request_id=request_id))
    done = flash_outcome(lambda: answering.accept(user, request_id, _typed_start()), lambda b: (
        f"Rendez-vous créé le {formatting.day(b.slot.start_at)[:5]} à {formatting.clock(b.slot.start_at)} : "
        "le patient et la régulation sont prévenus"))
    if done is None:
        return redirect(url_for("gp.slot_request", request_id=request_id))
    return redirect(url_for("gp.home") + "#today-bookings")


def _typed_start() -> datetime:
    try:
        local = datetime.combine(datetime.strptime(request.form.get("day", ""), "%Y-%m-%d").date(),
                                 datetime.strptime(request.form.get("time", ""), "%H:%M").time())
    except ValueError:
        raise Invalid("Indiquez le jour et l'heure du rendez-vous", fields={"start": ["expected a day and a time"]})
    return paris_to_utc(local)
