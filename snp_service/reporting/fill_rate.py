"""Fill-rate reports (SPEC section 3), computed by SQL aggregation.

Definitions, for the slots of the CPTS's member practitioners whose start falls
in the period (Europe/Paris days, both ends included):
- offered: not withdrawn (an expired slot was offered all the same);
- filled: offered and holding an active booking. The database allows one active
  booking per slot, so a slot cancelled and booked again counts once;
- fill_rate: filled / offered, a fraction rounded to 4 places, ``None`` when
  nothing was offered (0 would read as "nobody booked");
- the booking figures (by channel, without treating doctor, no-show, regulated
  acts) count the active bookings of the offered slots;
- by channel: an offered slot has no channel (only its booking has), so a
  channel's row counts the slots filled through that channel over *every*
  offered slot of the period: its ``offered`` is the period's total, and the
  channels' fill rates add up to the overall fill rate.

Paris days and hours: SQL groups the slots by UTC hour (``database.utc_hour_text``,
cheap on both databases, SQLite having no time zones); Europe/Paris is
always a whole number of hours from UTC, so each UTC hour is exactly one Paris
hour, 23- and 25-hour days included. Python then folds these rows (24 a day at
most, never one per slot) into Paris days, hours, ISO weeks and weekdays.
Communes are folded the same way from the per-practitioner rows.

A full report is two scans of the offered slots: per UTC hour, and per
practitioner with the booking figures as conditional counts in the same
GROUP BY (``_MIX``); the supplement total is the ledger's, as in the statement.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select, text

from ..core.database import utc_hour_text
from ..core.extensions import db
from ..core.timeutil import PARIS, UTC, check_days, paris_day_bounds
from ..models import Booking, BookingStatus, CancelledBy, Channel, Commune, Outcome, Practitioner, Slot, SlotStatus, TreatingDoctor, members_of
from ..supplements import rules, statements
from . import slot_requests

GROUPINGS = ("day", "week", "weekday", "hour", "practitioner", "commune", "channel", "profession")
SUMMARY_KEYS = ("offered", "filled", "fill_rate", "avg_offered_per_day", "practitioners", "bookings_by_channel",
                "share_without_treating_doctor", "no_show_rate", "regulated_acts", "supplement_cents",
                *slot_requests.KEYS,
                "patient_cancellations", "confirmed_share", "no_show_rate_confirmed", "no_show_rate_unconfirmed")


def ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def check_period(start: date, end: date) -> None:
    """A 422 for a period outside the service's date bounds: its hours would overflow Python's calendar.

    Checked by every report here, whoever asks (a season stored before the bounds, an indicator's period)."""
    check_days(**{"from": start, "to": end})


def summary(cpts_ids: list[int], start: date, end: date) -> dict:
    """The SPEC's summary figures of the CPTS ``cpts_ids`` for the Paris days ``start``..``end``."""
    check_period(start, end)
    return _summary(_practitioner_mix(cpts_ids, start, end), cpts_ids, start, end)


def _summary(practitioner_rows, cpts_ids: list[int], start: date, end: date) -> dict:
    return _booking_summary(practitioner_rows, cpts_ids, start, end) | _patient_figures(practitioner_rows, cpts_ids,
                                                                                      start, end)


def _patient_figures(practitioner_rows, cpts_ids: list[int], start: date, end: date) -> dict:
    """What the patients did themselves (issue 24): cancelled (``cancelled_by`` patient, through their link or a
    call), confirmed from their link; and the no-show rate of confirmed bookings against the others."""
    totals = [sum(column) for column in zip(*practitioner_rows)] or [0] * (3 + len(_MIX))
    filled, mix = totals[2], dict(zip(_MIX, totals[3:]))
    honored, no_show = mix["honored"], mix["no_show"]
    confirmed_honored, confirmed_no_show = mix["confirmed_honored"], mix["confirmed_no_show"]
    return {
        "patient_cancellations": _patient_cancellations(cpts_ids, start, end),
        "confirmed_share": ratio(mix["confirmed"], filled),
        "no_show_rate_confirmed": ratio(confirmed_no_show, confirmed_honored + confirmed_no_show),
        "no_show_rate_unconfirmed": ratio(no_show - confirmed_no_show,
                                          honored - confirmed_honored + no_show - confirmed_no_show),
    }


def _patient_cancellations(cpts_ids: list[int], start: date, end: date) -> int:
    lower, _ = paris_day_bounds(start)
    _, upper = paris_day_bounds(end)
    return db.session.scalar(
        select(func.count(Booking.id)).join(Slot, Slot.id == Booking.slot_id)
        .where(Slot.practitioner_id.in_(members_of(cpts_ids)), Slot.start_at >= lower, Slot.start_at < upper,
               Booking.status == BookingStatus.CANCELLED, Booking.cancelled_by == CancelledBy.PATIENT)) or 0


def _booking_summary(practitioner_rows, cpts_ids: list[int], start: date, end: date) -> dict:
    """Every figure added up from the per-practitioner rows of ``_practitioner_mix``."""
    totals = [sum(column) for column in zip(*practitioner_rows)] or [0] * (3 + len(_MIX))
    offered, filled = totals[1], totals[2]
    mix = dict(zip(_MIX, totals[3:]))
    by_channel = {channel: mix[channel] for channel in Channel.values()}
    without_treating_doctor, honored = mix["without_treating_doctor"], mix["honored"]
    no_show, regulated = mix["no_show"], mix["regulated"]
    return {
        "offered": offered,
        "filled": filled,
        "fill_rate": ratio(filled, offered),
        "avg_offered_per_day": round(offered / period_days(start, end), 2),
        "practitioners": len(practitioner_rows),
        "bookings_by_channel": by_channel,
        "share_without_treating_doctor": ratio(without_treating_doctor, filled),
        "no_show_rate": ratio(no_show, honored + no_show),
        "regulated_acts": regulated,
        "supplement_cents": statements.ledger_cents(cpts_ids, start, end),
        **slot_requests.request_figures(cpts_ids, start, end),
    }


def breakdown(cpts_ids: list[int], start: date, end: date, group_by: str) -> list[dict]:
    """Rows ``{key, offered, filled, fill_rate}`` (plus ``label`` for practitioners and communes).

    Days and weeks list every day or week of the period, even with nothing offered,
    so that charts show the gaps; the other groupings list the keys that were offered.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    check_period(start, end)
    if group_by == "channel":
        return _by_channel(_practitioner_mix(cpts_ids, start, end))
    if group_by in ("practitioner", "commune", "profession"):
        practitioners = _by_practitioner(cpts_ids, start, end)
        if group_by == "profession":
            return _professions(practitioners)
        return practitioners if group_by == "practitioner" else _communes(practitioners, cpts_ids)
    return _fold(_by_paris_hour(cpts_ids, start, end), start, end, group_by)


def report(cpts_ids: list[int], start: date, end: date, group_by: str) -> dict:
    """The SPEC's report payload: ``{group_by, summary, breakdown}``."""
    return {"group_by": group_by, "summary": summary(cpts_ids, start, end),
            "breakdown": breakdown(cpts_ids, start, end, group_by)}


def full_report(cpts_ids: list[int], start: date, end: date) -> dict:
    """The summary and every breakdown, as shown in the season report and the XLSX workbook."""
    check_period(start, end)
    hours = _by_paris_hour(cpts_ids, start, end)
    counts = _practitioner_mix(cpts_ids, start, end)
    practitioners = _named([row[:3] for row in counts])
    breakdowns = {group_by: _fold(hours, start, end, group_by) for group_by in ("day", "week", "weekday", "hour")}
    breakdowns |= {"practitioner": practitioners, "commune": _communes(practitioners, cpts_ids),
                   "channel": _by_channel(counts), "profession": _professions(practitioners)}
    return {"summary": _summary(counts, cpts_ids, start, end), "breakdowns": breakdowns}


def offered_by_commune(cpts_id: int, day: date) -> list[dict]:
    """Every commune of the CPTS with the slots offered there on ``day`` (zero included: a thin offer shows)."""
    rows = _communes(_by_practitioner([cpts_id], day, day), [cpts_id])
    counts = {row["key"]: row["offered"] for row in rows}
    communes = db.session.execute(select(Commune.insee, Commune.name).where(Commune.cpts_id == cpts_id)
                                  .order_by(Commune.name)).all()
    return [{"insee": insee, "name": name, "offered": counts.get(insee, 0)} for insee, name in communes]


# --- SQL -------------------------------------------------------------------------------------------------------


def _offered_slots(columns, cpts_ids: list[int], start: date, end: date):
    lower, _ = paris_day_bounds(start)
    _, upper = paris_day_bounds(end)
    return (
        select(*columns)
        .select_from(Slot)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, Booking.status == BookingStatus.BOOKED))
        .where(Slot.practitioner_id.in_(members_of(cpts_ids)), Slot.status != SlotStatus.WITHDRAWN,
               Slot.start_at >= lower, Slot.start_at < upper)
    )


def _grouped(key, cpts_ids: list[int], start: date, end: date):
    columns = [key.label("key"), func.count(Slot.id).label("offered"), func.count(Booking.id).label("filled")]
    query = _offered_slots(columns, cpts_ids, start, end)
    # By position: PostgreSQL would not see two renderings of a bound expression as the same group.
    return db.session.execute(query.group_by(text("1")).order_by(text("1"))).all()


def _by_paris_hour(cpts_ids, start, end) -> list[tuple[datetime, int, int]]:
    """(Paris wall-clock hour, offered, filled) for each UTC hour with offered slots."""
    hours = _grouped(utc_hour_text(Slot.start_at), cpts_ids, start, end)
    return [(_paris_hour(hour), offered, filled) for hour, offered, filled in hours]


def _paris_hour(utc_hour: str) -> datetime:
    """A UTC hour ``YYYY-MM-DD HH`` as an aware Europe/Paris datetime (cheaper than ``strptime``)."""
    day, hour = date.fromisoformat(utc_hour[:10]), int(utc_hour[11:13])
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).astimezone(PARIS)


def _practitioner_counts(cpts_ids, start, end) -> list[tuple[int, int, int]]:
    """(practitioner id, offered, filled) of each practitioner with offered slots."""
    return _grouped(Slot.practitioner_id, cpts_ids, start, end)


# The booking figures counted per practitioner in the same scan, each over the active bookings of the offered slots.
_MIX = (*Channel.values(), "without_treating_doctor", "honored", "no_show", "regulated", "confirmed", "confirmed_honored",
        "confirmed_no_show")


def _mix_conditions() -> list:
    """The condition of each ``_MIX`` figure; a regulated act is the supplements' definition (channels are rules)."""
    return [*(Booking.channel == channel for channel in Channel.values()), Booking.has_treating_doctor == TreatingDoctor.NO,
            Booking.outcome == Outcome.HONORED, Booking.outcome == Outcome.NO_SHOW,
            rules.regulated_act(rules.current_rules()), Booking.confirmed_at.isnot(None),
            and_(Booking.confirmed_at.isnot(None), Booking.outcome == Outcome.HONORED),
            and_(Booking.confirmed_at.isnot(None), Booking.outcome == Outcome.NO_SHOW)]


def _practitioner_mix(cpts_ids, start, end) -> list[tuple[int, ...]]:
    """(practitioner id, offered, filled, *the ``_MIX`` counts) of each practitioner with offered slots: one scan."""
    columns = [Slot.practitioner_id, func.count(Slot.id), func.count(Booking.id),
               *(func.count(case((condition, Booking.id))) for condition in _mix_conditions())]
    query = _offered_slots(columns, cpts_ids, start, end)
    return db.session.execute(query.group_by(Slot.practitioner_id).order_by(Slot.practitioner_id)).all()


def _by_practitioner(cpts_ids, start, end) -> list[dict]:
    return _named(_practitioner_counts(cpts_ids, start, end))


def _named(rows) -> list[dict]:
    names = {p.id: p for p in db.session.scalars(select(Practitioner).where(Practitioner.id.in_([r[0] for r in rows])))}
    return [_row(pid, offered, filled) | {"label": names[pid].display_name, "rpps": names[pid].rpps,
                                          "commune_insee": names[pid].commune_insee, "profession": names[pid].profession}
            for pid, offered, filled in rows]


def _professions(practitioners: list[dict]) -> list[dict]:
    """Per-practitioner rows added up by profession (the professions with offered slots)."""
    totals: dict[str, tuple[int, int]] = {}
    for row in practitioners:
        offered, filled = totals.get(row["profession"], (0, 0))
        totals[row["profession"]] = (offered + row["offered"], filled + row["filled"])
    return [_row(profession, offered, filled) for profession, (offered, filled) in sorted(totals.items())]


def _communes(practitioners: list[dict], cpts_ids: list[int]) -> list[dict]:
    """Per-practitioner rows added up by the practitioner's commune."""
    totals: dict[str, tuple[int, int]] = {}
    for row in practitioners:
        offered, filled = totals.get(row["commune_insee"] or "", (0, 0))
        totals[row["commune_insee"] or ""] = (offered + row["offered"], filled + row["filled"])
    names = dict(db.session.execute(select(Commune.insee, Commune.name).where(Commune.cpts_id.in_(cpts_ids))).all())
    return [_row(insee, offered, filled) | {"label": names.get(insee, insee)}
            for insee, (offered, filled) in sorted(totals.items())]


# --- Folding day rows ------------------------------------------------------------------------------------------


def _by_channel(practitioner_rows) -> list[dict]:
    """One row per channel: the slots filled through it over every offered slot (see the module's docstring)."""
    totals = [sum(column) for column in zip(*practitioner_rows)] or [0] * (3 + len(_MIX))
    mix = dict(zip(_MIX, totals[3:]))
    return [_row(channel, totals[1], mix[channel]) for channel in Channel.values()]


def _row(key, offered: int, filled: int) -> dict:
    return {"key": key, "offered": offered, "filled": filled, "fill_rate": ratio(filled, offered)}


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _fold(hours: list[tuple[datetime, int, int]], start: date, end: date, group_by: str) -> list[dict]:
    key_of = {"day": lambda t: t.date().isoformat(), "week": lambda t: iso_week(t.date()),
              "weekday": lambda t: t.isoweekday(), "hour": lambda t: t.hour}[group_by]
    totals: dict = {}
    if group_by in ("day", "week"):  # calendar series: every day of the period, even empty
        for offset in range(period_days(start, end)):
            totals[key_of(datetime.combine(start + timedelta(days=offset), time(12)))] = (0, 0)
    for local_hour, offered, filled in hours:
        previous = totals.get(key_of(local_hour), (0, 0))
        totals[key_of(local_hour)] = (previous[0] + offered, previous[1] + filled)
    return [_row(key, offered, filled) for key, (offered, filled) in sorted(totals.items())]
