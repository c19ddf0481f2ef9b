"""History import (SPEC section 4): a past season's slots and bookings from a CSV, all or nothing.

Every row is checked before anything is written; any bad row rejects the whole
file with the list of bad lines (line 1 is the header). Imported bookings carry
no patient identity; they count in reports, indicators and supplements exactly
like live ones, so ``booked_at`` becomes the booking's creation time (the 48-hour
rule of the supplement reads it).
"""
from __future__ import annotations

import csv
import io
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid
from ..core.extensions import db
from ..core.fast_paths import insert_many
from ..core.timeutil import BOUNDS_TEXT, instant_in_bounds, to_paris, utcnow
from ..cpts.record import get_cpts
from ..models import (
    Booking, BookingStatus, Channel, Outcome, Practitioner, Slot, SlotMode, SlotStatus, TreatingDoctor, members_of,
)
from ..supplements import ledger

COLUMNS = ("rpps", "start", "end", "mode", "withdrawn", "booked", "booked_at", "channel", "outcome",
           "patient_has_treating_doctor")
MAX_ROWS = 50_000
# No field of the format is longer than an ISO date-time; csv's own limit (128 KiB) raises csv.Error.
MAX_FIELD_CHARS = 100
# A slot longer than this is a typo in the file, not an SNP consultation.
MAX_SLOT_HOURS = 12


@dataclass
class HistoryRow:
    line: int
    practitioner_id: int
    start: datetime
    end: datetime
    mode: str
    withdrawn: bool
    booked: bool
    booked_at: datetime | None
    channel: str | None
    outcome: str | None
    has_treating_doctor: str | None


def import_history(actor, cpts_id: int, body: bytes) -> dict:
    """Load the CSV ``body`` into CPTS ``cpts_id``; return the counts of what was created."""
    get_cpts(cpts_id)
    lines = _read(body)
    members = _members_by_rpps(cpts_id)
    rows, errors = [], {}
    for line, record in lines:
        problems: list[str] = []
        row = _parse(line, record, members, problems)
        if problems:
            errors[line] = problems
        else:
            rows.append(row)
    if not errors:
        errors = _overlaps(rows)
    if errors:
        _reject(errors)
    with write_transaction():
        counts = _write(actor, cpts_id, rows)
        if rows:
            days = [to_paris(row.start).date() for row in rows]
            ledger.record_accruals(actor, min(days), max(days))
        audit.record(actor, "history.import", Slot.__tablename__, after={"cpts_id": cpts_id, **counts})
    return counts


def _read(body: bytes) -> list[tuple[int, dict]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("Le fichier doit être encodé en UTF-8", fields={"body": ["not UTF-8"]})
    if "\x00" in text:
        raise Invalid("Le fichier contient un caractère nul (NUL) : ce n'est pas un CSV texte",
                      fields={"body": ["contains a NUL byte"]})
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _records(reader)
    except csv.Error as error:
        # A field over csv's size limit, or a quote left open to the end of the file.
        raise Invalid(f"CSV illisible ligne {reader.line_num}", fields={f"line {reader.line_num}": [str(error)]},
                      extra={"lines": [{"line": reader.line_num, "errors": [str(error)]}]}) from None


def _records(reader) -> list[tuple[int, dict]]:
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(COLUMNS):
        raise Invalid("En-tête attendu : " + ",".join(COLUMNS), fields={"line 1": ["header must be " + ",".join(COLUMNS)]},
                      extra={"lines": [{"line": 1, "errors": ["header must be " + ",".join(COLUMNS)]}]})
    records = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(records) >= MAX_ROWS:
            raise Invalid(f"Au plus {MAX_ROWS} lignes par fichier", fields={"body": [f"at most {MAX_ROWS} rows"]})
        if len(values) != len(COLUMNS):
            records.append((reader.line_num, {"_columns": len(values)}))
        elif any(len(value) > MAX_FIELD_CHARS for value in values):
            records.append((reader.line_num, {"_long": MAX_FIELD_CHARS}))
        else:
            records.append((reader.line_num, dict(zip(COLUMNS, (v.strip() for v in values)))))
    if not records:
        raise Invalid("Le fichier ne contient aucune ligne", fields={"body": ["no rows"]})
    return records


def _members_by_rpps(cpts_id: int) -> dict[str, int]:
    query = select(Practitioner.rpps, Practitioner.id).where(Practitioner.id.in_(members_of([cpts_id])))
    return dict(db.session.execute(query).all())


def _parse(line: int, record: dict, members: dict[str, int], problems: list[str]) -> HistoryRow | None:
    if "_columns" in record:
        problems.append(f"{len(COLUMNS)} columns expected, {record['_columns']} found")
        return None
    if "_long" in record:
        problems.append(f"a field is longer than {record['_long']} characters")
        return None
    practitioner_id = members.get(record["rpps"])
    if practitioner_id is None:
        problems.append("rpps: not a practitioner of this CPTS")
    start = _instant(record, "start", problems, required=True)
    end = _instant(record, "end", problems, required=True)
    if start and end and not start < end <= start + timedelta(hours=MAX_SLOT_HOURS):
        problems.append(f"end: must be after start, at most {MAX_SLOT_HOURS} hours later")
    if start and start > utcnow():
        problems.append("start: must be in the past")
    mode = _choice(record, "mode", SlotMode.values(), problems, required=True)
    withdrawn = _flag(record, "withdrawn", problems)
    booked = _flag(record, "booked", problems)
    if withdrawn and booked:
        problems.append("withdrawn and booked: a withdrawn slot cannot be booked")
    booking = _booking_fields(record, bool(booked), problems)
    if problems:
        return None
    return HistoryRow(line, practitioner_id, start, end, mode, withdrawn, booked, *booking)


def _booking_fields(record: dict, booked: bool, problems: list[str]) -> tuple:
    if not booked:
        filled = [name for name in ("booked_at", "channel", "outcome", "patient_has_treating_doctor") if record[name]]
        if filled:
            problems.append(f"{', '.join(filled)}: only for a booked slot")
        return None, None, None, None
    return (_instant(record, "booked_at", problems, required=True),
            _choice(record, "channel", Channel.values(), problems, required=True),
            _choice(record, "outcome", Outcome.values(), problems),
            _choice(record, "patient_has_treating_doctor", TreatingDoctor.values(), problems))


def _instant(record: dict, name: str, problems: list[str], *, required: bool = False) -> datetime | None:
    value = record[name]
    if not value:
        if required:
            problems.append(f"{name}: required")
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"{name}: not an ISO 8601 date-time")
        return None
    if instant.tzinfo is None:
        problems.append(f"{name}: the UTC offset is required (e.g. +02:00)")
        return None
    if not instant_in_bounds(instant):
        problems.append(f"{name}: out of range (years {BOUNDS_TEXT})")
        return None
    return instant


def _choice(record: dict, name: str, allowed: tuple, problems: list[str], *, required: bool = False) -> str | None:
    value = record[name]
    if not value:
        if required:
            problems.append(f"{name}: required")
        return None
    if value not in allowed:
        problems.append(f"{name}: one of {', '.join(allowed)}")
        return None
    return value


def _flag(record: dict, name: str, problems: list[str]) -> bool:
    if record[name] not in ("0", "1"):
        problems.append(f"{name}: 0 or 1")
        return False
    return record[name] == "1"


def _overlaps(rows: list[HistoryRow]) -> dict[int, list[str]]:
    """Rows whose slot overlaps another non-withdrawn slot of the practitioner, in the file or already stored.

    One pass, O(n log n): the file's live slots sorted by practitioner and start meet the earlier
    row that reaches furthest; the stored ones come in one query, and each row looks up the one stored slot that can
    reach it (stored slots never overlap one another, so the last one starting before the row's end
    is the only candidate), as the SQLite trigger does.
    """
    live = sorted((r for r in rows if not r.withdrawn), key=lambda r: (r.practitioner_id, r.start))
    errors: dict[int, list[str]] = {}
    reach: HistoryRow | None = None  # the practitioner's earlier row that ends last
    for row in live:
        if reach is not None and reach.practitioner_id == row.practitioner_id and reach.end > row.start:
            errors.setdefault(row.line, []).append(f"overlaps the slot of line {reach.line}")
        if reach is None or reach.practitioner_id != row.practitioner_id or row.end > reach.end:
            reach = row
    if not live:
        return errors
    stored: dict[int, tuple[list[datetime], list[datetime]]] = {}
    for practitioner_id, start_at, end_at in db.session.execute(
            select(Slot.practitioner_id, Slot.start_at, Slot.end_at).where(
                Slot.practitioner_id.in_({r.practitioner_id for r in live}), Slot.status != SlotStatus.WITHDRAWN,
                Slot.start_at < max(r.end for r in live), Slot.end_at > min(r.start for r in live))
            .order_by(Slot.practitioner_id, Slot.start_at)):
        starts, ends = stored.setdefault(practitioner_id, ([], []))
        starts.append(start_at)
        ends.append(end_at)
    for row in live:
        starts, ends = stored.get(row.practitioner_id, ((), ()))
        last_before_end = bisect_left(starts, row.end) - 1
        if last_before_end >= 0 and ends[last_before_end] > row.start:
            errors.setdefault(row.line, []).append("overlaps a slot already stored for this practitioner")
    return errors


def _reject(errors: dict[int, list[str]]) -> None:
    lines = [{"line": line, "errors": problems} for line, problems in sorted(errors.items())]
    raise Invalid(f"Fichier refusé : {len(lines)} ligne(s) invalide(s), rien n'a été importé",
                  fields={f"line {item['line']}": item["errors"] for item in lines}, extra={"lines": lines})


def _write(actor, cpts_id: int, rows: list[HistoryRow]) -> dict:
    """Insert the file's slots, then its bookings, each with one ``executemany`` (``database.insert_many``)."""
    created_by = actor.id if hasattr(actor, "id") else None
    now = utcnow()
    slot_rows = [{"practitioner_id": r.practitioner_id, "start_at": r.start, "end_at": r.end, "mode": r.mode,
                  "status": (SlotStatus.WITHDRAWN if r.withdrawn else SlotStatus.BOOKED if r.booked else SlotStatus.EXPIRED).value}
                 for r in rows]
    booking_rows = [{"channel": r.channel, "outcome": r.outcome, "has_treating_doctor": r.has_treating_doctor,
                     "created_at": r.booked_at, "outcome_at": r.end if r.outcome else None} for r in rows]
    try:
        slot_ids = insert_many(Slot.__table__, slot_rows, new_ids=True,
                               same={"created_by_id": created_by, "created_at": now, "updated_at": now})
        bookings = [dict(booking, slot_id=slot_id)
                    for slot_id, booking, r in zip(slot_ids, booking_rows, rows) if r.booked]
        # An imported booking belongs to the importing CPTS (``policy``), like one made there.
        insert_many(Booking.__table__, bookings, same={"status": BookingStatus.BOOKED.value, "booked_by_id": created_by,
                                                          "cpts_id": cpts_id})
    except IntegrityError:
        # Another writer stored an overlapping slot since the check: nothing of the file is kept.
        raise Conflict("Un créneau du fichier chevauche un créneau enregistré entre-temps", code="overlap")
    return {"slots": len(slot_rows), "bookings": len(bookings), "withdrawn": sum(r.withdrawn for r in rows)}
