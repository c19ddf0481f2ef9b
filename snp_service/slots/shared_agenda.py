"""The shared agenda of a regulation area as a planning grid: practitioners against each day's hours.

The 2020 tool was "mal adapté à la planification des soins sur des agendas de praticiens
différents" (seed 004): regulators want every practitioner of the area side by side, one
column each, grouped by commune, with the hours of each day down the side. This module
gives the page exactly that, as plain data: the columns, the days with the hours to show,
and the slots placed by their Paris wall-clock minutes.

Cost is bounded by the request itself: one to three Paris days, the practitioners of the
caller's area (optionally one commune or one practitioner). Booked slots carry the
patient's initials only: enough for two regulators to recognise a booking on a shared
screen, too little to identify anybody; and only for a booking made for a CPTS of the
grid's scope (``policy.bookings_of``): another CPTS's booking on a shared practitioner
shows as booked, nothing more. Such an in-scope booking also carries its id, which the page
opens (``/api/v1/bookings/<id>``, checked again there) to cancel or move it.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, select

from ..core.extensions import db
from ..core.timeutil import paris_day_bounds, to_paris, utcnow
from ..cpts.record import commune_names
from ..models import Booking, BookingStatus, Patient, Practitioner, Slot, SlotStatus, members_of
from ..models.practitioners import display_name
from ..policy import bookings_of

GRID_DAYS = (1, 3)
# A day without slots shows a GP's usual day; a day with slots shows their hours and one row's margin around them.
FIRST_HOUR, LAST_HOUR = 8, 20
# Rows of the grid, at a fixed step the regulator chooses (15 minutes unless asked): every slot is drawn at its
# true start and length across them (a 20-minute slot spans 1⅓ rows), so one practitioner's unusual length or
# start (7 minutes, 01:56) never rescales the area's grid (issue 24).
STEPS_MINUTES = (5, 10, 15, 30)
DEFAULT_STEP = 15
DAY_MINUTES = 24 * 60
NO_COMMUNE = "Commune non renseignée"


def planning_grid(scope: set[int] | None, first_day: date, days: int, *, practitioner_id: int | None = None,
                  commune: str | None = None, step: int = DEFAULT_STEP) -> dict:
    """The grid of ``days`` Paris days from ``first_day`` for the practitioners of ``scope``.

    ``practitioner_id`` or ``commune`` narrow the columns (a SAS link lands on one practitioner).
    """
    start, _ = paris_day_bounds(first_day)
    _, end = paris_day_bounds(first_day + timedelta(days=days - 1))
    practitioners = _practitioners(scope, practitioner_id, commune)
    slots = [_grid_slot(row) for row in _slot_rows(scope, [p.id for p in practitioners], start, end)]
    return {
        "from": to_paris(start).isoformat(), "to": to_paris(end).isoformat(),
        "step_minutes": step,
        "days": _days(first_day, days, slots, step),
        "communes": _by_commune(practitioners, commune_names(scope, {p.commune_insee for p in practitioners})),
        "slots": slots,
    }


def _practitioners(scope: set[int] | None, practitioner_id: int | None, commune: str | None) -> list:
    statement = (select(Practitioner.id, Practitioner.first_name, Practitioner.last_name, Practitioner.profession,
                        Practitioner.address, Practitioner.commune_insee)
                 .order_by(Practitioner.last_name, Practitioner.first_name, Practitioner.id))
    if scope is not None:
        statement = statement.where(Practitioner.id.in_(members_of(scope)))
    if practitioner_id is not None:
        statement = statement.where(Practitioner.id == practitioner_id)
    if commune is not None:
        statement = statement.where(Practitioner.commune_insee == commune)
    return list(db.session.execute(statement))


def _slot_rows(scope: set[int] | None, practitioner_ids: list[int], start: datetime, end: datetime) -> list:
    if not practitioner_ids:
        return []
    in_scope = bookings_of(scope)
    of_booking = Patient.id == Booking.patient_id
    statement = (
        select(Slot.id, Slot.practitioner_id, Slot.start_at, Slot.end_at, Slot.mode, Slot.status,
               Patient.first_name, Patient.last_name, Booking.confirmed_at,
               (Booking.id if in_scope is None else case((in_scope, Booking.id), else_=None)).label("booking_id"))
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == BookingStatus.BOOKED))
        .outerjoin(Patient, of_booking if in_scope is None else and_(of_booking, in_scope))
        .where(Slot.practitioner_id.in_(practitioner_ids), Slot.start_at >= start, Slot.start_at < end)
        .order_by(Slot.practitioner_id, Slot.start_at, Slot.id)
    )
    return list(db.session.execute(statement))


def _grid_slot(row) -> dict:
    start, end = to_paris(row.start_at), to_paris(row.end_at)
    start_minute = start.hour * 60 + start.minute
    # A slot running past midnight is drawn to the end of its day.
    end_minute = end.hour * 60 + end.minute if end.date() == start.date() else DAY_MINUTES
    return {
        "id": row.id, "practitioner_id": row.practitioner_id, "day": start.date().isoformat(),
        "start_minute": start_minute, "end_minute": max(end_minute, start_minute + 1),
        "start": start.isoformat(), "end": end.isoformat(), "mode": row.mode, "status": row.status,
        # What a regulator may still book: free and not started (the expiry job may not have run yet).
        "bookable": row.status == SlotStatus.FREE and row.start_at > utcnow(),
        "initials": _initials(row.first_name, row.last_name) if row.status == SlotStatus.BOOKED else None,
        # The patient confirmed from their own link (``bookings.patient_link``): a no-show is less likely.
        "confirmed": row.status == SlotStatus.BOOKED and row.confirmed_at is not None,
        # The booking a regulator may open from the cell (cancel, move): only one made for the grid's scope.
        "booking_id": row.booking_id if row.status == SlotStatus.BOOKED else None,
    }


def _initials(first_name: str | None, last_name: str | None) -> str | None:
    if not first_name or not last_name:  # imported or erased patients have no identity
        return None
    return f"{first_name.strip()[:1]}{last_name.strip()[:1]}".upper()


def _days(first_day: date, days: int, slots: list[dict], step: int = DEFAULT_STEP) -> list[dict]:
    """Each day's rows: from one row before its first slot to one row after its last, on the step (a GP's usual
    day when it has none). The same rows for every day shown, so that days side by side line up. A CPTS open
    08:00-20:00 thus reads in 50 rows of 15 minutes (07:45-20:15), not 56 of whole hours or 144 of 5 minutes."""
    starts = [s["start_minute"] for s in slots]
    ends = [s["end_minute"] for s in slots]
    if starts:
        first, last = max(0, min(starts) - step), min(DAY_MINUTES, max(ends) + step)
    else:
        first, last = FIRST_HOUR * 60, LAST_HOUR * 60
    first, last = first - first % step, min(-(-last // step) * step, DAY_MINUTES)
    return [{"date": (first_day + timedelta(days=offset)).isoformat(), "first_minute": first, "last_minute": last}
            for offset in range(days)]


def _by_commune(practitioners: list, names: dict[str, str]) -> list[dict]:
    communes: OrderedDict[str | None, list[dict]] = OrderedDict()
    for p in practitioners:
        communes.setdefault(p.commune_insee, []).append(_column(p))
    ordered = sorted(communes.items(), key=lambda item: (item[0] is None, names.get(item[0], item[0] or "")))
    return [{"insee": insee, "name": names.get(insee, insee or NO_COMMUNE), "practitioners": columns}
            for insee, columns in ordered]


def _column(p) -> dict:
    return {"id": p.id, "name": display_name(p.profession, p.first_name, p.last_name), "profession": p.profession,
            "short_name": f"{p.first_name.strip()[:1]}. {p.last_name}", "address": p.address,
            "commune_insee": p.commune_insee}
