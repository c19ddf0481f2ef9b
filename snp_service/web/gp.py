"""The GP's pages: publish SNP slots, see today's bookings, record outcomes.

Forms post here (Flask-WTF CSRF) with Europe/Paris wall-clock times; the
publishing service converts them. A refused request comes back as a French
flash message on the same page rather than an error page: the GP retries in place.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import calendar_feed, calendar_import, gp_agenda, practitioners, publishing
from ..policy import require_roles
from ..timeutil import paris_today, to_paris
from . import flash_outcome

bp = Blueprint("gp", __name__, url_prefix="/gp")

MODES = [SelectChoice(value, label) for value, label in (
    ("office", "Au cabinet"), ("teleconsultation", "Téléconsultation"), ("home_visit", "Visite à domicile"))]
DURATIONS = [SelectChoice(str(m), f"{m} min") for m in (10, 15, 20, 30, 45, 60)]
WEEKDAYS = [SelectChoice(value, label) for value, label in (
    ("MO", "Lun"), ("TU", "Mar"), ("WE", "Mer"), ("TH", "Jeu"), ("FR", "Ven"), ("SA", "Sam"), ("SU", "Dim"))]


def plausible_day(form, field) -> None:
    """A day a GP could publish on: far-off years would overflow the time arithmetic (a 500)."""
    if field.data and not 2000 <= field.data.year <= 2199:
        raise ValidationError("Date hors limites")


class BlockForm(FlaskForm):
    day = DateField("Jour", validators=[DataRequired(), plausible_day])
    start = TimeField("De", validators=[DataRequired()])
    end = TimeField("À", validators=[DataRequired()])
    slot_minutes = SelectField("Durée d'un créneau", choices=DURATIONS, coerce=int, default=15)
    mode = SelectField("Lieu", choices=MODES, default="office")


class SlotForm(FlaskForm):
    day = DateField("Jour", validators=[DataRequired(), plausible_day])
    start = TimeField("Heure", validators=[DataRequired()])
    minutes = SelectField("Durée", choices=DURATIONS, coerce=int, default=15)
    mode = SelectField("Lieu", choices=MODES, default="office")


class SeriesForm(FlaskForm):
    weekdays = SelectMultipleField("Jours", choices=WEEKDAYS, validators=[DataRequired()],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    start = TimeField("Heure de début", validators=[DataRequired()])
    block_minutes = IntegerField("Durée de la plage (min)", validators=[DataRequired(), NumberRange(5, 720)], default=60)
    slot_minutes = SelectField("Durée d'un créneau", choices=DURATIONS, coerce=int, default=15)
    first_day = DateField("Du", validators=[DataRequired(), plausible_day])
    last_day = DateField("Au", validators=[DataRequired(), plausible_day])
    mode = SelectField("Lieu", choices=MODES, default="office")


class ImportForm(FlaskForm):
    file = FileField("Fichier .ics", validators=[FileRequired()])
    slot_minutes = SelectField("Découper en créneaux de", choices=DURATIONS, coerce=int, default=15)


@bp.app_template_filter("gp_time")
def gp_time(moment: datetime) -> str:
    """An instant as the Paris wall-clock time a GP reads (14:00)."""
    return f"{to_paris(moment):%H:%M}"


def _forms() -> dict:
    """The page's forms, pre-filled so tomorrow afternoon opens in one tap."""
    tomorrow = paris_today() + timedelta(days=1)
    two_pm, four_pm, five_pm = (datetime.strptime(t, "%H:%M").time() for t in ("14:00", "16:00", "17:00"))
    return {
        "block_form": BlockForm(prefix="block", day=tomorrow, start=two_pm, end=four_pm),
        "slot_form": SlotForm(prefix="slot", day=tomorrow, start=two_pm),
        "series_form": SeriesForm(prefix="series", start=five_pm, first_day=tomorrow,
                                  last_day=tomorrow + timedelta(weeks=8)),
        "import_form": ImportForm(prefix="ics"),
        "action_form": FlaskForm(),
    }


@bp.get("")
@require_roles("gp")
def home(user):
    home_data = gp_agenda.gp_home(user.practitioner)
    return render_template("gp/home.html", practitioner=user.practitioner, home=home_data, **_forms())


@bp.post("/block")
@require_roles("gp")
def open_block(user):
    form = BlockForm(prefix="block")
    return _publish(user, form, lambda: {"block": {
        "start": datetime.combine(form.day.data, form.start.data), "end": datetime.combine(form.day.data, form.end.data),
        "slot_minutes": form.slot_minutes.data}, "mode": form.mode.data})


@bp.post("/slot")
@require_roles("gp")
def open_slot(user):
    form = SlotForm(prefix="slot")

    def request():
        start = datetime.combine(form.day.data, form.start.data)
        return {"start": start, "end": start + timedelta(minutes=form.minutes.data), "mode": form.mode.data}
    return _publish(user, form, request)


@bp.post("/series")
@require_roles("gp")
def open_series(user):
    form = SeriesForm(prefix="series")

    def request():
        # A DATE UNTIL: the last day is included (RFC 5545).
        rrule = f"FREQ=WEEKLY;BYDAY={','.join(form.weekdays.data)};UNTIL={form.last_day.data:%Y%m%d}"
        return {"series": {"first_start": datetime.combine(form.first_day.data, form.start.data),
                           "block_minutes": form.block_minutes.data, "slot_minutes": form.slot_minutes.data,
                           "rrule": rrule}, "mode": form.mode.data}
    return _publish(user, form, request)


def _publish(user, form: FlaskForm, build_request):
    if not form.validate_on_submit():
        flash("Formulaire incomplet : " + ", ".join(f.label.text for f in form if f.errors), "error")
    else:
        flash_outcome(lambda: publishing.publish_request(user, user.practitioner, build_request()),
                      lambda slots: f"{len(slots)} créneau(x) ouvert(s)")
    return redirect(url_for("gp.home"))


@bp.post("/slots/<int:slot_id>/withdraw")
@require_roles("gp")
def withdraw(slot_id, user):
    if FlaskForm().validate_on_submit():
        flash_outcome(lambda: publishing.withdraw(user, slot_id), lambda slot: f"Créneau de {gp_time(slot.start_at)} retiré")
    return redirect(url_for("gp.home"))


@bp.post("/import")
@require_roles("gp")
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
@require_roles("gp")
def rotate_calendar_token(user):
    if FlaskForm().validate_on_submit():
        calendar_feed.rotate_token(user, user.practitioner)
        flash("Nouveau lien d'agenda créé : l'ancien ne fonctionne plus", "success")
    return redirect(url_for("gp.home"))


@bp.post("/sas-participation")
@require_roles("gp")
def set_sas_participation(user):
    if FlaskForm().validate_on_submit():
        participate = request.form.get("participate") == "1"
        flash_outcome(lambda: practitioners.set_sas_participation(user, user.practitioner_id, participate),
                      "Vos créneaux sont visibles sur la plateforme SAS" if participate
                      else "Vos créneaux ne sont plus visibles sur la plateforme SAS")
    return redirect(url_for("gp.home") + "#sas")
