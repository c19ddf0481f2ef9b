"""The GP page's publishing forms: what each one asks the publishing service, and where a refusal is shown.

Times are Europe/Paris wall-clock times; the publishing service converts them and
applies every rule. A refusal (a ``DomainError``) is placed next to the field it is
about, so that the GP corrects that field and keeps everything else typed.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.errors import DomainError
from ..core.timeutil import BOUNDS_TEXT, day_in_bounds, paris_today
from ..formatting import MODE_LABELS, WEEKDAYS as DAY_NAMES
from ..models import SlotMode
from ..slots.recurrence import WEEKDAYS as RRULE_DAYS
from .forms import FrenchForm

MODES = [SelectChoice(mode, label) for mode, label in MODE_LABELS.items()]
DURATIONS = [SelectChoice(str(m), f"{m} min") for m in (10, 15, 20, 30, 45, 60)]
WEEKDAYS = [SelectChoice(code, name) for code, name in zip(RRULE_DAYS, DAY_NAMES)]


def plausible_day(form, field) -> None:
    """A day within the service's bounds: far-off years would overflow the time arithmetic (a 500)."""
    if field.data and not day_in_bounds(field.data):
        raise ValidationError(f"Date hors limites ({BOUNDS_TEXT})")


def at_least_one_day(form, field) -> None:
    # Not DataRequired: it would mark every checkbox `required`, and the browser would demand all seven.
    if not field.data:
        raise ValidationError("Choisissez au moins un jour de la semaine")


def _required(what: str):
    return DataRequired(message=f"Indiquez {what}")


_REACH_CODES = ("beyond_horizon", "too_many_slots")


class PublishForm(FrenchForm):
    """A form that becomes one publish request."""

    kind = ""
    # Field keys of the publishing service's errors -> this form's field.
    SERVICE_FIELDS: dict[str, str] = {}

    def publish_request(self) -> dict:
        raise NotImplementedError

    def day_field(self) -> str:
        return "day"

    def field_for(self, error: DomainError) -> str | None:
        """The field a refusal is about: named by the service, or told by its code.

        A refusal of how far the dates reach is about the last day, whichever part of the request the
        service names (a series' rule, for the API)."""
        if error.code not in _REACH_CODES:
            for key in error.fields:
                if key in self.SERVICE_FIELDS:
                    return self.SERVICE_FIELDS[key]
        day = self[self.day_field()].data
        by_code = {
            "in_the_past": "start" if day == paris_today() else self.day_field(),
            "beyond_horizon": self.last_day_field(),
            "slot_overlap": "start",
            "end_before_start": "end" if "end" in self else None,
            "too_many_slots": self.last_day_field(),
            "nonexistent_local_time": "start",
            "ambiguous_local_time": "start",
        }
        return by_code.get(error.code)

    def last_day_field(self) -> str:
        return self.day_field()

    def place(self, error: DomainError) -> None:
        """Show ``error`` next to its field, or above the form's button when no field is at fault."""
        name = self.field_for(error)
        if name and name in self:
            self[name].errors = [*self[name].errors, error.message]
        else:
            self.form_errors.append(error.message)


class BlockForm(PublishForm):
    kind = "block"
    SERVICE_FIELDS = {"block.start": "start", "block.end": "end", "block.slot_minutes": "slot_minutes"}
    day = DateField("Jour", validators=[_required("le jour"), plausible_day])
    start = TimeField("De", validators=[_required("l'heure de début")])
    end = TimeField("À", validators=[_required("l'heure de fin")])
    slot_minutes = SelectField("Durée d'un créneau", choices=DURATIONS, coerce=int, default=15)
    mode = SelectField("Lieu", choices=MODES, default=SlotMode.OFFICE)

    def publish_request(self) -> dict:
        return {"block": {"start": datetime.combine(self.day.data, self.start.data),
                          "end": datetime.combine(self.day.data, self.end.data),
                          "slot_minutes": self.slot_minutes.data}, "mode": self.mode.data}


class SlotForm(PublishForm):
    kind = "slot"
    SERVICE_FIELDS = {"end": "minutes"}
    day = DateField("Jour", validators=[_required("le jour"), plausible_day])
    start = TimeField("Heure", validators=[_required("l'heure")])
    minutes = SelectField("Durée", choices=DURATIONS, coerce=int, default=15)
    mode = SelectField("Lieu", choices=MODES, default=SlotMode.OFFICE)

    def publish_request(self) -> dict:
        start = datetime.combine(self.day.data, self.start.data)
        return {"start": start, "end": start + timedelta(minutes=self.minutes.data), "mode": self.mode.data}


class SeriesForm(PublishForm):
    kind = "series"
    SERVICE_FIELDS = {"series.rrule": "weekdays", "series.block_minutes": "block_minutes"}
    weekdays = SelectMultipleField("Jours", choices=WEEKDAYS, validators=[at_least_one_day],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    start = TimeField("Heure de début", validators=[_required("l'heure de début")])
    block_minutes = IntegerField("Durée de la plage (min)", default=60, validators=[
        _required("la durée de la plage"), NumberRange(5, 720, message="Entre 5 et 720 minutes")])
    slot_minutes = SelectField("Durée d'un créneau", choices=DURATIONS, coerce=int, default=15)
    first_day = DateField("Du", validators=[_required("le premier jour"), plausible_day])
    last_day = DateField("Au", validators=[_required("le dernier jour"), plausible_day])
    mode = SelectField("Lieu", choices=MODES, default=SlotMode.OFFICE)

    def validate_last_day(self, field) -> None:
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError("Le dernier jour doit suivre le premier")

    def day_field(self) -> str:
        return "first_day"

    def last_day_field(self) -> str:
        return "last_day"

    def publish_request(self) -> dict:
        # A DATE UNTIL: the last day is included (RFC 5545).
        days = [code for code in RRULE_DAYS if code in self.weekdays.data]
        rrule = f"FREQ=WEEKLY;BYDAY={','.join(days)};UNTIL={self.last_day.data:%Y%m%d}"
        return {"series": {"first_start": datetime.combine(self.first_day.data, self.start.data),
                           "block_minutes": self.block_minutes.data, "slot_minutes": self.slot_minutes.data,
                           "rrule": rrule}, "mode": self.mode.data}


FORMS = {form.kind: form for form in (BlockForm, SlotForm, SeriesForm)}


def fresh_forms(today: date | None = None) -> dict[str, PublishForm]:
    """The publishing forms, pre-filled so that tomorrow afternoon opens in one tap."""
    tomorrow = (today or paris_today()) + timedelta(days=1)
    two_pm, four_pm, five_pm = (datetime.strptime(t, "%H:%M").time() for t in ("14:00", "16:00", "17:00"))
    return {
        "block": BlockForm(prefix="block", formdata=None, day=tomorrow, start=two_pm, end=four_pm),
        "slot": SlotForm(prefix="slot", formdata=None, day=tomorrow, start=two_pm),
        "series": SeriesForm(prefix="series", formdata=None, start=five_pm, first_day=tomorrow,
                             last_day=tomorrow + timedelta(weeks=8)),
    }
