"""What the domain tells the notification outbox. Called inside the service's transaction.

Each function only adds outbox rows to the current session: nothing is sent
before the commit, so a rolled-back booking never texts anybody.
"""
from __future__ import annotations


def booking_created(booking, notify_patient: bool) -> None:
    """A slot was booked: patient confirmation (if wanted and possible), alert to the GP."""


def booking_cancelled(booking) -> None:
    """A booking was cancelled: tell the patient and the GP."""


def booking_moved(old_booking, new_booking, notify_patient: bool) -> None:
    """A booking moved to another slot: one message to the patient with the new time, alert to both GPs."""
