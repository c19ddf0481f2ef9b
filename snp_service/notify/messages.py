"""Every SMS text, in one place: French, short, GSM-7, no medical content.

One SMS segment is 160 GSM-7 characters; a single character outside GSM-7
(``ê``, ``ç``, a typographic apostrophe) turns the whole text into UCS-2 and
cuts a segment to 70 characters, so names and addresses are folded to GSM-7.
Nothing here mentions the reason for the visit or the patient's name.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import phonenumbers

from .. import formatting
from ..core.timeutil import to_paris
from ..models import SlotMode

TEMPLATES = {
    "patient_confirmation": "RDV le {when} avec {doctor}{place}. Annuler : {link}",
    "patient_reminder": "Rappel : RDV le {when} avec {doctor}{place}. Confirmer : {link}",
    "patient_cancellation": "Votre RDV du {when} avec {doctor} est annulé. Besoin d'un médecin ? Rappelez le 116 117.",
    "patient_move": "RDV déplacé au {when} avec {doctor}{place}. Annuler : {link}",
    "gp_new_booking": "SNP : votre créneau du {when} est réservé ({channel}). Détails : {link}",
    "gp_cancellation": "SNP : la réservation de votre créneau du {when} est annulée. Détails : {link}",
    "gp_move": "SNP : une réservation passe du {old_when} au {when}. Détails : {link}",
    "gp_slot_request": "SNP : demande de RDV ({commune}) {window}. Accepter : {link}",
}
# The patient's messages that carry their own link (``bookings.patient_link``): one new link each.
WITH_PATIENT_LINK = ("patient_confirmation", "patient_reminder", "patient_move")
# How the place reads after the doctor's name, by slot mode.
PLACES = {SlotMode.OFFICE: ", {address}", SlotMode.TELECONSULTATION: ", en téléconsultation",
          SlotMode.HOME_VISIT: ", visite à domicile"}
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")  # each counts as two characters
_FOLDS = {"’": "'", "‘": "'", "«": '"', "»": '"', "–": "-", "—": "-", "œ": "oe", "Œ": "OE", "\u00a0": " ", "ç": "c"}


def reference(outbox_id: int) -> str:
    """The end of every SMS sent: the outbox row's own reference, by which a message the provider
    accepted before a crash is found again (``TwilioBackend.find``) rather than sent twice."""
    return f" Réf. {outbox_id}"


def render(kind: str, **values) -> str:
    """The text of a message of ``kind``, folded to GSM-7."""
    return to_gsm7(TEMPLATES[kind].format(**values))


# Room kept at the end of every text for its reference (``reference``), up to ten million messages.
REFERENCE_ROOM = len(" Réf. 9999999")
SEGMENT = 160


def render_for_patient(kind: str, *, when: str, doctor: str, place: str, link: str | None) -> str:
    """A patient's text, in one GSM-7 segment where it can be: when the place would push a text that carries
    the patient's link past one segment, the place is left to the link's page, which shows it."""
    text = render(kind, when=when, doctor=doctor, place=place, link=link)
    if link and place and gsm7_length(text) + REFERENCE_ROOM > SEGMENT:
        text = render(kind, when=when, doctor=doctor, place="", link=link)
    return text


def when(start: datetime) -> str:
    """``mer. 15/07 à 14h30`` in Europe/Paris."""
    local = to_paris(start)
    return f"{WEEKDAYS[local.weekday()]} {local:%d/%m} à {local:%H}h{local:%M}"


def window(start: datetime, end: datetime) -> str:
    """``mer. 15/07 de 14h00 à 18h00`` (one Paris day) or ``du mer. 15/07 14h00 au jeu. 16/07 10h00``."""
    first, last = to_paris(start), to_paris(end)
    if first.date() == last.date():
        return f"{WEEKDAYS[first.weekday()]} {first:%d/%m} de {first:%H}h{first:%M} à {last:%H}h{last:%M}"
    return f"du {when(start).replace(' à ', ' ')} au {when(end).replace(' à ', ' ')}"


def place(mode: str, address: str | None) -> str:
    if mode == SlotMode.OFFICE and not address:
        return ""
    return PLACES.get(mode, "").format(address=address)


def channel_label(channel: str) -> str:
    """The booking's channel as every page and file says it (``formatting``), folded to GSM-7 by ``render``."""
    return formatting.channel(channel)


def to_gsm7(text: str) -> str:
    """Replace every character outside GSM-7 by its closest GSM-7 spelling (ê -> e)."""
    folded = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENDED:
            folded.append(char)
        elif char in _FOLDS:
            folded.append(_FOLDS[char])
        else:
            base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            folded.append(base if all(c in GSM7_BASIC for c in base) else "?")
    return "".join(folded)


def gsm7_length(text: str) -> int:
    return sum(2 if char in GSM7_EXTENDED else 1 for char in text)


def is_mobile(phone: str | None) -> bool:
    """True for a number that can receive an SMS (a French 06/07, or any mobile abroad)."""
    if not phone:
        return False
    try:
        number = phonenumbers.parse(phone, "FR")
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return phonenumbers.is_valid_number(number) and kind in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def e164(phone: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(phone, "FR"), phonenumbers.PhoneNumberFormat.E164)


# A French mobile already written in E.164 (+33 6.. or +33 7..): what the practitioners' records hold.
_FRENCH_MOBILE_E164 = re.compile(r"^\+33[67]\d{8}$")


def mobile_e164(phone: str | None) -> str | None:
    """The number in E.164 if it can receive an SMS, else None; a French mobile already in E.164 is taken as it
    is (a slot request texts a hundred practitioners: parsing each number twice cost most of the request)."""
    if phone and _FRENCH_MOBILE_E164.match(phone):
        return phone
    return e164(phone) if is_mobile(phone) else None


def mask_phone(phone: str | None) -> str:
    """``+33 6 •• •• •• 78``: enough for a coordinator to tell numbers apart, not to call them."""
    if not phone:
        return "—"
    try:
        number = phonenumbers.parse(phone, "FR")
    except phonenumbers.NumberParseException:
        return "••"
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {national[:1]} •• •• •• {national[-2:]}"
