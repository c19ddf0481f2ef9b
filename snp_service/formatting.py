"""How figures and codes read in French, everywhere a person reads them: pages, printable report, spreadsheet
labels, SMS.

Numbers follow the French CLDR conventions through Babel: a narrow no-break space between
thousands, a decimal comma, a no-break space before ``%`` and ``€`` (``1 149``, ``59,3 %``,
``1 149,00 €``). A difference of two rates is in percentage points (``+9,9 pts``), never a
percentage of a percentage. Money arrives in integer cents and is shown in euros.

The pages use these functions as Jinja filters (``register``); CSV files keep plain decimals
that spreadsheets parse (``spreadsheets``), with the labels defined here. Each code of the service (a
role, a channel, a slot's mode, a message's status...) has one wording, here: a page, a file and an SMS
say it the same way.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask, current_app

from .core.timeutil import to_paris
from .models import CancelledBy, Channel, Outcome, Profession, Role, SlotMode

LOCALE = "fr_FR"
NONE = "—"

CHANNEL_LABELS = {Channel.NUMBER_116117: "116 117", Channel.SAS: "SAS", Channel.CENTRE_15: "Centre 15",
                  Channel.OTHER: "Autre"}
ROLE_LABELS = {Role.GP: "Médecin", Role.REGULATOR: "Régulateur", Role.COORDINATOR: "Coordinateur",
               Role.ADMIN: "Administrateur"}
PROFESSION_LABELS = {Profession.GP: "Médecin généraliste", Profession.NURSE: "Infirmier(ère)",
                     Profession.PHYSIOTHERAPIST: "Masseur-kinésithérapeute", Profession.PHARMACIST: "Pharmacien(ne)",
                     Profession.MIDWIFE: "Sage-femme"}
MODE_LABELS = {SlotMode.OFFICE: "Au cabinet", SlotMode.TELECONSULTATION: "Téléconsultation",
               SlotMode.HOME_VISIT: "Visite à domicile"}
# A booking's outcome as the GP taps it.
OUTCOME_LABELS = {Outcome.HONORED: "vu", Outcome.NO_SHOW: "absent"}
# Who asked for a cancellation, besides the patient, as the console names them (bookings.booking.CANCELLED_BY_ROLE).
CANCELLER_LABELS = {CancelledBy.REGULATOR: "La régulation", CancelledBy.COORDINATOR: "La coordination"}
# The SMS outbox and the calls to the SAS platform, on the coordinator's page.
MESSAGE_KIND_LABELS = {
    "patient_confirmation": "Confirmation", "patient_reminder": "Rappel", "patient_cancellation": "Annulation",
    "patient_move": "Déplacement", "gp_new_booking": "Médecin : réservation",
    "gp_cancellation": "Médecin : annulation", "gp_move": "Médecin : déplacement",
}
MESSAGE_STATUS_LABELS = {
    "pending": "En attente", "sending": "Envoi en cours", "queued": "Transmis", "sent": "Envoyé",
    "delivered": "Reçu", "undelivered": "Non reçu", "failed": "Échec", "skipped": "Sans objet",
}
SAS_EVENT_LABELS = {"booked": "Réservation", "cancelled": "Annulation", "honored": "Patient vu",
                    "no_show": "Patient absent", "moved": "Déplacement"}
SAS_PUSH_STATUS_LABELS = {"pending": "En attente", "sending": "Envoi en cours", "sent": "Transmis", "failed": "Échec"}
# How each report figure and indicator reads (``figure``'s kinds; ``channels`` for a distribution): rates are
# fractions in the data, percentages on screen; money is in cents.
FIGURE_KINDS = {"fill_rate": "rate", "share_without_treating_doctor": "rate", "no_show_rate": "rate",
                "avg_offered_per_day": "decimal", "supplement_cents": "cents", "bookings_by_channel": "channels",
                "median_minutes_to_accept": "decimal",
                "confirmed_share": "rate", "no_show_rate_confirmed": "rate", "no_show_rate_unconfirmed": "rate"}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# Why an act earns no supplement (supplements.evaluate's codes); {cap} and {delay} come from the rules in force.
EXCLUSION_LABELS = {
    "treating_doctor": "Le praticien est le médecin traitant du patient",
    "delay_over_48h": "Rendez-vous plus de {delay} h après la réservation",
    "pdsa_hours": "Heures de permanence des soins (soir, week-end ou jour férié)",
    "weekly_cap": "Plafond de {cap} actes dans la semaine déjà atteint",
}
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def number(value, places: int = 0) -> str:
    """``1 149`` or, with ``places``, ``1 149,50``."""
    if value is None:
        return NONE
    return format_decimal(value, format="#,##0" + ("." + "0" * places if places else ""), locale=LOCALE)


def percent(rate: float | None, places: int = 1) -> str:
    """A fraction as a percentage: 0.5934 -> ``59,3 %``."""
    if rate is None:
        return NONE
    return format_percent(rate, format="#,##0" + ("." + "0" * places if places else "") + "\xa0%", locale=LOCALE)


def points(difference: float | None, places: int = 1) -> str:
    """The difference of two rates (fractions) in percentage points: 0.099 -> ``+9,9 pts``."""
    if difference is None:
        return NONE
    return f"{_signed(difference * 100, places)}\xa0pts"


def euros(cents: int | None, signed: bool = False) -> str:
    """Integer cents as euros: 114900 -> ``1 149,00 €``."""
    if cents is None:
        return NONE
    text = format_currency(abs(cents) / 100, "EUR", locale=LOCALE)
    return ("-" if cents < 0 else "+" if signed and cents > 0 else "") + text


def figure(value, kind: str = "count") -> str:
    """A report figure by its kind: ``count``, ``decimal`` (2 places), ``rate`` (a fraction) or ``cents``."""
    if kind == "rate":
        return percent(value)
    if kind == "cents":
        return euros(value)
    return number(value, 2 if kind == "decimal" else 0)


def difference(value, kind: str = "count") -> str:
    """The difference of two figures of one kind, always signed: ``+5``, ``-0,35``, ``+9,9 pts``, ``+15,00 €``."""
    if value is None:
        return NONE
    if kind == "rate":
        return points(value)
    if kind == "cents":
        return euros(value, signed=True)
    return _signed(value, 2 if kind == "decimal" else 0)


def _signed(value: float, places: int) -> str:
    pattern = "#,##0" + ("." + "0" * places if places else "")
    text = format_decimal(abs(value), format=pattern, locale=LOCALE)
    if text.strip("0,\u202f") == "":
        return text  # rounds to zero: no sign
    return ("+" if value > 0 else "-") + text


def channel(code: str | None) -> str:
    return CHANNEL_LABELS.get(code, code or NONE)


def channels(counts: dict) -> str:
    """Bookings by channel: ``116 117 : 582 · SAS : 107 · Centre 15 : 71 · Autre : 41``."""
    # Each "label : count" stays on one line; lines break between channels only.
    return " · ".join(f"{channel(code)}\xa0: {number(count)}".replace(" ", "\xa0") for code, count in counts.items())


def week(key) -> str:
    """An ISO week as the French read it: ``2020-W29`` (or 29) -> ``S29``."""
    if isinstance(key, int):
        return f"S{key}"
    match = _ISO_WEEK.match(str(key))
    return f"S{int(match[2])}" if match else str(key)


def iso_week(key: str) -> str:
    """An ISO week with its year, for files: ``2020-W29`` -> ``2020-S29``."""
    match = _ISO_WEEK.match(str(key))
    return f"{match[1]}-S{match[2]}" if match else str(key)


def day(value: date | datetime | str | None) -> str:
    """``14/07/2026``; an instant (or its ISO text) is taken on the Paris calendar."""
    if value is None:
        return NONE
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = to_paris(value)
    return f"{value:%d/%m/%Y}"


def long_day(value: datetime) -> str:
    """An instant's Paris day written out, as a patient reads it: ``lundi 15 juillet 2030``."""
    return format_date(to_paris(value).date(), "EEEE d MMMM y", locale=LOCALE)


def slot_mode(code: str) -> str:
    """A slot's mode: ``Au cabinet``, ``Téléconsultation``, ``Visite à domicile``."""
    return MODE_LABELS.get(code, code)


def month(value: str | date) -> str:
    """A month as a title: ``2025-07`` -> ``juillet 2025``."""
    first = date.fromisoformat(f"{value}-01") if isinstance(value, str) else value
    return format_date(first, "MMMM y", locale=LOCALE)


def clock(value: datetime | str) -> str:
    """An instant (or its ISO text) as the Paris wall-clock time people read (14:00)."""
    return f"{to_paris(datetime.fromisoformat(value) if isinstance(value, str) else value):%H:%M}"


def weekday(value: date | int) -> str:
    """``lundi`` for a date or an ISO weekday number (1 = Monday)."""
    return WEEKDAYS[(value if isinstance(value, int) else value.isoweekday()) - 1]


def exclusion(code: str | None) -> str:
    """Why an act earns no supplement, in French (empty for an eligible act)."""
    if not code:
        return ""
    rules = current_app.config["SUPPLEMENT_RULES"]
    return EXCLUSION_LABELS.get(code, code).format(cap=rules["weekly_cap"], delay=rules["max_delay_hours"])


def register(app: Flask) -> None:
    """The functions above as Jinja filters, under the names the templates use."""
    app.jinja_env.filters.update(
        number=number, percent=percent, points=points, euros=euros, figure=figure, difference=difference,
        channel=channel, channels=channels, week=week, day=day, month=month, clock=clock, weekday=weekday, exclusion=exclusion,
        long_day=long_day, slot_mode=slot_mode)
