"""The practitioner's iCalendar feed: their SNP slots in the agenda they already use.

The feed is reached by a secret URL (agendas cannot send a bearer token), so
the token is random, stored per practitioner, and rotating it kills the old
URL at once. A booked slot shows the patient's initials and nothing else:
a subscribed agenda syncs to phones and clouds we do not control.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, select

from .. import audit, formatting, policy
from ..core.database import write_transaction
from ..core.errors import Forbidden, NotFound
from ..core.extensions import db
from ..core.timeutil import PARIS, utcnow
from ..models import BookingStatus, Booking, Patient, Practitioner, Slot, SlotStatus, User, new_calendar_token

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 120
FREE_SUMMARY = "SNP — créneau libre"

# The EU rule since 1996 (last Sunday of March and of October), as agendas themselves write it.
PARIS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


@dataclass
class PractitionerCard:
    """A practitioner with their feed URL, as shown to themselves and to a coordinator."""

    practitioner: Practitioner
    calendar_url: str | None

    def __getattr__(self, name):
        # Every other field is the practitioner's own (the API schema reads them by name).
        return getattr(self.practitioner, name)


# --- the token --------------------------------------------------------------------------------


def feed_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/calendar/{token}.ics"


def practitioner_card(user: User, practitioner: Practitioner) -> Practitioner | PractitionerCard:
    """The practitioner, with ``calendar_url`` for those who may see it."""
    if not policy.acts_for_practitioner(user, practitioner) or not practitioner.calendar_token:
        return practitioner
    return PractitionerCard(practitioner, feed_url(practitioner.calendar_token))


def rotate_token(actor: User, practitioner: Practitioner) -> PractitionerCard:
    """A new secret: the old feed URL answers 404 from the commit on. For those who may hold the feed
    (``policy.acts_for_practitioner``)."""
    if not policy.acts_for_practitioner(actor, practitioner):
        raise Forbidden("L'agenda de ce praticien montre aussi les rendez-vous d'une CPTS que vous ne coordonnez pas",
                        code="practitioner_shared")
    with write_transaction():
        practitioner = db.session.get(Practitioner, practitioner.id)
        practitioner.calendar_token = new_calendar_token()
        audit.record(actor, "practitioner.calendar_token.rotate", practitioner)
    return PractitionerCard(practitioner, feed_url(practitioner.calendar_token))


# --- the feed ---------------------------------------------------------------------------------


def feed_for_token(token: str, now: datetime | None = None) -> bytes:
    """The .ics text of the practitioner holding ``token``; 404 for an unknown or rotated token."""
    practitioner = db.session.scalar(select(Practitioner).where(Practitioner.calendar_token == token)) if token else None
    if practitioner is None:
        raise NotFound("Agenda introuvable")
    return render(practitioner, feed_rows(practitioner.id, now or utcnow()))


def feed_rows(practitioner_id: int, now: datetime) -> list:
    """Slots of the last 30 and next 120 days (withdrawn ones left out), with the patient's names if booked."""
    query = (
        select(Slot.id, Slot.start_at, Slot.end_at, Slot.mode, Slot.status, Patient.first_name, Patient.last_name)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == BookingStatus.BOOKED))
        .outerjoin(Patient, Patient.id == Booking.patient_id)
        .where(Slot.practitioner_id == practitioner_id, Slot.status != SlotStatus.WITHDRAWN,
               Slot.start_at >= now - timedelta(days=FEED_PAST_DAYS),
               Slot.start_at < now + timedelta(days=FEED_FUTURE_DAYS))
        .order_by(Slot.start_at))
    return list(db.session.execute(query))


def render(practitioner: Practitioner, rows: list) -> bytes:
    """RFC 5545 text, written directly: building 1,000 icalendar objects costs ten times the budget."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "snp.local"
    stamp = f"{utcnow():%Y%m%dT%H%M%SZ}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SNP service//Soins non programmes//FR", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _text(f"SNP — {practitioner.display_name}"),
             "X-WR-TIMEZONE:Europe/Paris", *PARIS_VTIMEZONE.splitlines()]
    for row in rows:
        lines += [
            "BEGIN:VEVENT",
            f"UID:slot-{row.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID=Europe/Paris:{row.start_at.astimezone(PARIS):%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Paris:{row.end_at.astimezone(PARIS):%Y%m%dT%H%M%S}",
            "SUMMARY:" + _text(summary(row.status, row.first_name, row.last_name)),
            "DESCRIPTION:" + formatting.MODE_LABELS.get(row.mode, row.mode),
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines).encode()


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and newline escaped."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a UTF-8 character."""
    if len(line.encode()) <= 75:
        return line
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def summary(status: str, first_name: str | None, last_name: str | None) -> str:
    if status != SlotStatus.BOOKED:
        return FREE_SUMMARY
    initials = "".join(name.strip()[0].upper() for name in (first_name, last_name) if name and name.strip())
    # Imported or erased bookings carry no identity: the slot is still taken.
    return f"SNP — {initials}" if initials else "SNP — réservé"
