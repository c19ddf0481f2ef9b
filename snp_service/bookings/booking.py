"""Booking a slot for a caller, and what follows: cancel, move, outcome.

Two regulators may grab the same slot at the same moment. The slot goes
``free → booked`` by a guarded ``UPDATE ... WHERE status = 'free'`` whose row
count says who won; the partial unique index ``uq_booking_active_slot`` is the
backstop. Nothing is checked first and written later.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, case, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..core.database import constraint_name, write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.fast_paths import as_loaded, execute_core, insert_row
from ..core.timeutil import paris_day_bounds, paris_today, utcnow
from ..models import (
    Booking, BookingStatus, CancelledBy, Patient, Practitioner, Role, Slot, SlotStatus, User, members_of, practitioner_cpts,
)
from ..notify import events
from ..ops import metrics
from ..policy import (
    booking_visible, bookings_listing, check_outcome_recorder, member_cpts_ids, outcome_correctable, visible_cpts_ids,
)
from ..sas import outbox as sas_outbox
from ..slots import search
from ..supplements import ledger
from . import patients

MAX_LISTED = 1000
# The only integrity errors a booking can meet are the two races the indexes settle.
_RACE_CONSTRAINTS = ("uq_booking_active_slot", "uq_booking_idempotency", "booking.slot_id", "booking.idempotency_key")
# Who a cancel is recorded as (``cancelled_by``), decided by the caller's role: the first value is the
# default; a regulator or a coordinator may record instead that the patient asked for it; a GP's cancel is
# always the practitioner's. The old booking of a move is cancelled as the role's default.
CANCELLED_BY_ROLE = {Role.REGULATOR: (CancelledBy.REGULATOR, CancelledBy.PATIENT),
                     Role.COORDINATOR: (CancelledBy.COORDINATOR, CancelledBy.PATIENT),
                     Role.ADMIN: (CancelledBy.COORDINATOR, CancelledBy.PATIENT), Role.GP: (CancelledBy.PRACTITIONER,)}


class _SlotLost(Exception):
    """The guarded write changed no row: somebody else booked (or withdrew) the slot first."""


def book(actor: User, data: dict, idempotency_key: str | None = None) -> tuple[Booking, bool]:
    """Book ``data['slot_id']`` for ``data['patient']``; return the booking and whether it is new.

    With an ``idempotency_key``, a retried request returns the booking of the first one; the
    same key with another request is refused (422 ``idempotency_key_reused``), as payment APIs
    do: answering the first booking would tell a second caller they are booked.
    """
    patient = patients.checked_patient(data["patient"])
    fingerprint = _fingerprint(data, patient) if idempotency_key else None
    earlier = _replay(actor, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier, False
    try:
        with write_transaction():
            slot, cpts_id = _claim(actor, data["slot_id"])
            booking = _new_booking(actor, slot, cpts_id, patient, data, idempotency_key, fingerprint)
            events.booking_created(booking, data.get("notify_patient", True))
            sas_outbox.enqueue(booking, "booked")
            audit.record(actor, "booking.create", booking, after=_summary(booking))
            channel = booking.channel
    except (_SlotLost, IntegrityError) as error:
        _reraise_unless_race(error)
        earlier = _replay(actor, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, False
        # Only a lost claim reads the slot: unknown or outside the actor's area is a 404, anything else taken.
        raise _unavailable(actor, _slot_in_scope(actor, data["slot_id"]))
    metrics.booking_made(channel)  # committed
    return booking, True


def _fingerprint(data: dict, patient: dict) -> str:
    """What identifies a booking request, keyed with the secret key: it names nobody on its own."""
    request = {"slot_id": data["slot_id"], "patient": patient, "reason": data.get("reason"), "channel": data["channel"],
               "notify_patient": data.get("notify_patient", True)}
    canonical = json.dumps(request, sort_keys=True, default=str).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), canonical, hashlib.sha256).hexdigest()


def _replay(actor: User, key: str | None, fingerprint: str | None) -> Booking | None:
    """The booking an earlier request with this key made, if this request is the same one."""
    earlier = _by_idempotency_key(actor, key)
    if earlier is not None and earlier.idempotency_fingerprint not in (None, fingerprint):
        raise Invalid("Cette clé d'idempotence a déjà servi pour une autre réservation",
                      code="idempotency_key_reused", fields={"Idempotency-Key": ["already used for another request"]})
    return earlier


def _new_booking(actor: User, slot: Slot, cpts_id: int | None, patient: dict, data: dict, idempotency_key: str | None,
                 fingerprint: str | None) -> Booking:
    new_patient = insert_row(Patient, patient)
    booking = insert_row(Booking, {
        "slot_id": slot.id, "cpts_id": cpts_id, "patient_id": new_patient.id, "booked_by_id": actor.id,
        "idempotency_key": idempotency_key, "idempotency_fingerprint": fingerprint,
        "channel": data["channel"], "reason": data.get("reason"),
        "has_treating_doctor": patient["has_treating_doctor"],
        "by_treating_doctor": patient["treating_rpps"] == slot.practitioner.rpps})
    set_committed_value(booking, "slot", slot)
    set_committed_value(booking, "patient", new_patient)
    return booking


def _claim(actor: User, slot_id: int) -> tuple[Slot, int | None]:
    """``free → booked``, only if still free, not started and in the actor's area; the slot with its practitioner,
    and the CPTS the booking is made for.

    One guarded ``UPDATE ... RETURNING``: whether a row comes back decides the race, and the
    row is the slot as booked, with its practitioner and the booking's CPTS, so nothing is read
    before or after.
    """
    scope = visible_cpts_ids(actor)
    row = execute_core(_claim_statement(scoped=scope is not None),
                       {"slot_id": slot_id, "now": utcnow(), "scope": sorted(scope or ()),
                        "own": sorted(member_cpts_ids(actor))}).first()
    if row is None:
        raise _SlotLost()
    values = row._asdict()
    slot = as_loaded(Slot, {key: values[key] for key in _SLOT_KEYS})
    # A slot the session already held (a move's target) still says 'free': the row is written, only it must know.
    set_committed_value(slot, "status", SlotStatus.BOOKED.value)
    set_committed_value(slot, "practitioner", as_loaded(Practitioner, {
        key: values[f"practitioner__{key}"] for key in _PRACTITIONER_KEYS}))
    return slot, values["booking_cpts_id"]


_SLOT_KEYS = tuple(column.key for column in Slot.__table__.columns)
_PRACTITIONER_KEYS = tuple(column.key for column in Practitioner.__table__.columns)


@lru_cache(maxsize=2)
def _claim_statement(*, scoped: bool):
    # On the tables, not the mapped classes: a plain UPDATE skips the ORM's bulk-update bookkeeping. The
    # practitioner comes as scalar subqueries (SQLite's RETURNING cannot name an UPDATE ... FROM table).
    slot, practitioner = Slot.__table__, Practitioner.__table__
    statement = (update(slot).where(slot.c.id == bindparam("slot_id"), slot.c.status == SlotStatus.FREE.value,
                                    slot.c.start_at > bindparam("now", type_=slot.c.start_at.type))
                 .values(status=SlotStatus.BOOKED.value))
    if scoped:
        statement = statement.where(slot.c.practitioner_id.in_(members_of(bindparam("scope", expanding=True))))
    of_slot = practitioner.c.id == slot.c.practitioner_id
    return statement.returning(*slot.columns, *(
        select(column).where(of_slot).scalar_subquery().label(f"practitioner__{column.key}")
        for column in practitioner.columns), _booking_cpts(slot, scoped=scoped).label("booking_cpts_id"))


def _booking_cpts(slot, *, scoped: bool):
    """The CPTS a booking of ``slot`` is made for: one of the practitioner's, inside the booker's scope
    (``:scope``), the booker's own first (``:own``: a regulator booking in a CPTS of their area that is
    not theirs books for that CPTS), then the lowest id. An admin books for the practitioner's first CPTS."""
    member = practitioner_cpts.c
    # Named with its table: SQLite's RETURNING renders columns unqualified, and "practitioner_id" alone would be
    # practitioner_cpts' own column there.
    of_slot = literal_column(f"{slot.name}.{slot.c.practitioner_id.name}")
    chosen = select(member.cpts_id).where(member.practitioner_id == of_slot)
    if scoped:
        chosen = (chosen.where(member.cpts_id.in_(bindparam("scope", expanding=True)))
                  .order_by(case((member.cpts_id.in_(bindparam("own", expanding=True)), 0), else_=1)))
    return chosen.order_by(member.cpts_id).limit(1).scalar_subquery()


def _reraise_unless_race(error: Exception) -> None:
    if isinstance(error, IntegrityError) and not any(name in constraint_name(error) for name in _RACE_CONSTRAINTS):
        raise error


def _by_idempotency_key(actor: User, key: str | None) -> Booking | None:
    if not key:
        return None
    return db.session.scalar(
        select(Booking).options(*_booking_loads()).where(Booking.booked_by_id == actor.id,
                                                         Booking.idempotency_key == key))


def _unavailable(actor: User, slot: Slot) -> Conflict:
    return Conflict("Ce créneau n'est plus disponible : choisissez-en un autre",
                    code="slot_unavailable", fields={"slot_id": ["no longer free"]},
                    extra={"alternatives": search.alternatives(visible_cpts_ids(actor), slot)})


def _slot_in_scope(actor: User, slot_id: int) -> Slot:
    """The slot with its practitioner, if the actor may book it (one query, scope included)."""
    scope = visible_cpts_ids(actor)
    statement = _slot_statement(scoped=scope is not None)
    slot = db.session.scalar(statement, {"slot_id": slot_id, "scope": sorted(scope or ())})
    if slot is None:
        raise NotFound("Créneau introuvable", fields={"slot_id": ["unknown or outside your area"]})
    return slot


@lru_cache(maxsize=2)
def _slot_statement(*, scoped: bool):
    # Built once with bind parameters: the booking request runs it every time.
    statement = select(Slot).options(joinedload(Slot.practitioner)).where(Slot.id == bindparam("slot_id"))
    if scoped:
        statement = statement.where(Slot.practitioner_id.in_(members_of(bindparam("scope", expanding=True))))
    return statement


def _summary(booking: Booking) -> dict:
    # Ids and statuses only: audit summaries never carry patient data.
    return {"slot_id": booking.slot_id, "status": booking.status, "channel": booking.channel}


def cancel(actor: User, booking_id: int, by: str | None = None, reason: str | None = None) -> Booking:
    """Cancel a booking; its slot is free again if it has not started, else it is ``expired``.

    ``by`` is who asked for it, among those the actor's role allows (``CANCELLED_BY_ROLE``; the role's
    own by default).
    """
    with write_transaction():
        booking = _booking_in_scope(actor, booking_id)
        _cancel(actor, booking, _cancelled_by(actor, by), reason)
        events.booking_cancelled(booking)
        sas_outbox.enqueue(booking, "cancelled")
        channel = booking.channel
    metrics.booking_cancelled(channel)  # committed
    return booking


def cancel_for_patient_link(actor: str, booking: Booking) -> None:
    """The patient cancels through their own link (``patient_link``), inside its transaction: recorded as the
    patient's, the practitioner and the SAS told as for any cancel; the patient, who did it, is not texted."""
    _cancel(actor, booking, CancelledBy.PATIENT, None)
    events.to_practitioner("gp_cancellation", booking)
    sas_outbox.enqueue(booking, "cancelled")


def _cancelled_by(actor: User, by: str | None) -> str:
    allowed = CANCELLED_BY_ROLE[actor.role]
    if by is None:
        return allowed[0]
    if by not in allowed:
        raise Invalid(f"Annulation enregistrée au nom de : {' ou '.join(allowed)}", code="cancelled_by_not_allowed",
                      fields={"by": [f"one of {', '.join(allowed)} for a {actor.role}"]})
    return by


def _cancel(actor: User, booking: Booking, by: str, reason: str | None) -> None:
    if booking.outcome is not None:
        raise Conflict("Le résultat de ce rendez-vous est déjà enregistré", code="outcome_recorded")
    now = utcnow()
    cancelled = db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED.value, cancelled_at=now, cancelled_by=by, cancel_reason=reason)
    ).rowcount
    if cancelled != 1:
        raise Conflict("Ce rendez-vous est déjà annulé", code="already_cancelled")
    # A slot whose start has passed cannot be offered again: it expires like any unbooked one.
    slot_status = SlotStatus.FREE if booking.slot.start_at > now else SlotStatus.EXPIRED
    db.session.execute(update(Slot).where(Slot.id == booking.slot_id, Slot.status == SlotStatus.BOOKED)
                       .values(status=slot_status))
    audit.record(actor, "booking.cancel", booking, before={"status": BookingStatus.BOOKED, "slot_status": SlotStatus.BOOKED},
                 after={"status": BookingStatus.CANCELLED, "by": by, "slot_id": booking.slot_id,
                        "slot_status": slot_status})


def move(actor: User, booking_id: int, slot_id: int, notify_patient: bool = True) -> Booking:
    """Cancel and rebook on ``slot_id`` in one transaction: the patient never ends with none or two."""
    target = _slot_in_scope(actor, slot_id)
    try:
        with write_transaction():
            old = _booking_in_scope(actor, booking_id)
            if old.slot_id == target.id:
                raise Invalid("Le rendez-vous est déjà sur ce créneau", fields={"slot_id": ["same slot"]})
            _cancel(actor, old, CANCELLED_BY_ROLE[actor.role][0], None)
            _claim(actor, target.id)  # a move keeps the booking's CPTS, not the one a new booking would get
            new = _rebooked(actor, old, target)
            events.booking_moved(old, new, notify_patient)
            sas_outbox.enqueue(new, "moved", previous=old)
            audit.record(actor, "booking.move", new, before={"booking_id": old.id, "slot_id": old.slot_id},
                         after={"booking_id": new.id, "slot_id": target.id, "status": new.status})
            channel = new.channel
    except (_SlotLost, IntegrityError) as error:
        _reraise_unless_race(error)
        raise _unavailable(actor, target)
    metrics.booking_moved(channel)  # committed
    return new


def _rebooked(actor: User, old: Booking, target: Slot) -> Booking:
    patient: Patient | None = old.patient
    new = Booking(slot=target, cpts_id=old.cpts_id, patient=patient, booked_by_id=actor.id, channel=old.channel,
                  reason=old.reason, has_treating_doctor=old.has_treating_doctor,
                  by_treating_doctor=bool(patient and patient.treating_rpps == target.practitioner.rpps),
                  replaces_booking_id=old.id, first_booked_at=old.first_booked_at or old.created_at)
    db.session.add(new)
    db.session.flush()
    return new


def record_outcome(actor: User, booking_id: int, outcome: str) -> Booking:
    """Seen or no-show: only once the slot has started, on an active booking; corrected per
    ``policy.outcome_correctable``."""
    with write_transaction():
        booking = _booking_in_scope(actor, booking_id)
        check_outcome_recorder(actor)
        if booking.status != BookingStatus.BOOKED:
            raise Conflict("Ce rendez-vous a été annulé", code="booking_cancelled")
        if booking.slot.start_at > utcnow():
            raise Conflict("Le créneau n'a pas encore commencé", code="slot_not_started",
                           fields={"outcome": ["the slot has not started yet"]})
        if booking.outcome == outcome:
            return booking
        correction = booking.outcome is not None
        if correction and not outcome_correctable(actor.role, booking):
            raise Conflict("Le résultat se corrige le jour du rendez-vous ; ensuite, demandez à la coordination",
                           code="outcome_closed", fields={"outcome": ["corrected on the day of the slot only"]})
        before = {"outcome": booking.outcome}
        booking.outcome, booking.outcome_at = outcome, utcnow()
        sas_outbox.enqueue(booking, outcome)
        audit.record(actor, "booking.outcome", booking, before=before,
                     after={"outcome": outcome, "correction": correction})
        ledger.outcome_changed(actor, booking)
    return booking


def get_booking(actor: User, booking_id: int) -> Booking:
    return _booking_in_scope(actor, booking_id)


def _booking_in_scope(actor: User, booking_id: int) -> Booking:
    """The booking, if the actor may see its patient and act on it (``policy.booking_visible``); 404 otherwise."""
    booking = db.session.get(Booking, booking_id, options=_booking_loads(), populate_existing=True)
    if booking is None or not booking_visible(actor, booking):
        raise NotFound("Rendez-vous introuvable")
    return booking


def _booking_loads() -> list:
    return [joinedload(Booking.slot).joinedload(Slot.practitioner), joinedload(Booking.patient)]


def list_bookings(actor: User, start: datetime | None = None, end: datetime | None = None,
                  practitioner_id: int | None = None, status: str | None = None) -> list[Booking]:
    """Bookings whose slot starts in [start, end) (default: today in Paris), in the actor's scope."""
    today_start, today_end = paris_day_bounds(paris_today())
    start, end = start or today_start, end or (start + timedelta(days=1) if start else today_end)
    if end <= start:
        raise Invalid("La fin de la période doit suivre son début", fields={"to": ["must be after from"]})
    statement = (
        select(Booking).join(Booking.slot).join(Slot.practitioner)
        .options(contains_eager(Booking.slot).contains_eager(Slot.practitioner), joinedload(Booking.patient))
        .where(Slot.start_at >= start, Slot.start_at < end)
        .order_by(Slot.start_at, Booking.id).limit(MAX_LISTED)
    )
    # Only the bookings the actor sees (policy.bookings_listing).
    statement = statement.where(*bookings_listing(actor, practitioner_id))
    if status:
        statement = statement.where(Booking.status == status)
    return list(db.session.scalars(statement).unique())
