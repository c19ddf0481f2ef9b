"""The background jobs: each a few lines calling a domain service, returning its counts."""
from __future__ import annotations


def expire_slots() -> dict:
    from ..slots.expiry import expire_free_slots

    return {"expired": expire_free_slots()}


def expire_slot_requests() -> dict:
    from ..requests.answering import expire_due

    return {"expired": expire_due()}


def send_outbox() -> dict:
    from ..notify.sender import send_pending

    return send_pending()


def send_sas_appointments() -> dict:
    from ..sas.sender import send_pending

    return send_pending()


def send_reminders() -> dict:
    from ..notify.reminders import enqueue_due_reminders

    return {"enqueued": enqueue_due_reminders()}


def accrue_supplements() -> dict:
    from ..supplements.ledger import accrue

    return accrue()


def compute_indicators() -> dict:
    from ..reporting.indicators import compute_due

    return compute_due()


def purge_patient_data() -> dict:
    from ..bookings.retention import purge_patient_data as purge

    return purge()


def purge_sign_in_records() -> dict:
    from ..accounts.page_sessions import purge_expired
    from ..accounts.sign_in import purge_old_attempts

    return {"sessions": purge_expired(), "attempts": purge_old_attempts()}


def purge_practice_files() -> dict:
    from datetime import timedelta

    from flask import current_app

    from ..practice.space import remove_unused

    return remove_unused(current_app, timedelta(hours=current_app.config["PRACTICE_KEEP_HOURS"]))
