"""Schemas of slots: publishing requests, listing, .ics import.

Slot times are answered in Europe/Paris with their offset (``2027-03-30T17:00:00+02:00``):
the same instant as UTC, but readable as the wall-clock time people booked.
"""
from datetime import date, datetime, time

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...core.timeutil import PARIS, day_in_bounds
from ...models import SlotMode, SlotStatus
from .common import (
    OUT_OF_BOUNDS, BoundedAwareDateTime, BoundedList, BoundedNaiveDateTime, Id, ParisDateTime, aware_datetime,
)

_SHAPES = ("start", "slots", "block", "series")
# A batch body holds at most this many slots (the default MAX_SLOTS_PER_REQUEST, the cap of every publish).
MAX_BATCH_SLOTS = 2000


class InstantOrDay(fields.Field):
    """An ISO 8601 time with offset, or a day ``YYYY-MM-DD`` meaning its first moment in Europe/Paris."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError("Not a valid date (YYYY-MM-DD).")
            if not day_in_bounds(day):
                raise ValidationError(OUT_OF_BOUNDS)
            return datetime.combine(day, time(0), PARIS)
        return BoundedAwareDateTime(format="iso")._deserialize(value, attr, data, **kwargs)


class SlotSchema(Schema):
    id = fields.Integer()
    practitioner_id = fields.Integer()
    start = ParisDateTime(attribute="start_at")
    end = ParisDateTime(attribute="end_at")
    mode = fields.String()
    status = fields.String()


class SlotTimesSchema(Schema):
    start = aware_datetime(required=True)
    end = aware_datetime(required=True)


class BlockSchema(Schema):
    start = aware_datetime(required=True)
    end = aware_datetime(required=True)
    slot_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=24 * 60))


class SeriesSchema(Schema):
    first_start = BoundedNaiveDateTime(required=True, metadata={"description": "Europe/Paris local time, no offset"})
    block_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=24 * 60))
    slot_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=24 * 60))
    rrule = fields.String(required=True, validate=validate.Length(min=6, max=500),
                          metadata={"description": "RFC 5545 RRULE with UNTIL or COUNT, e.g. FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270910"})


class PublishSchema(Schema):
    """One of: ``{start, end}``, ``{slots: [...]}``, ``{block: {...}}``, ``{series: {...}}``."""

    practitioner_id = Id(strict=True, metadata={"description": "required for a coordinator; a GP publishes their own"})
    mode = fields.String(load_default=SlotMode.OFFICE.value, validate=validate.OneOf(SlotMode.values()))
    start = aware_datetime()
    end = aware_datetime()
    slots = BoundedList(fields.Nested(SlotTimesSchema), max_items=MAX_BATCH_SLOTS)
    block = fields.Nested(BlockSchema)
    series = fields.Nested(SeriesSchema)
    on_conflict = fields.String(load_default="refuse", validate=validate.OneOf(("refuse", "skip")), metadata={
        "description": "refuse (default): all or nothing; skip (a block or a series): the days already holding an "
                       "overlapping slot are left out whole, and named in skipped_days"})

    @validates_schema
    def one_shape(self, data, **kwargs):
        given = [shape for shape in _SHAPES if shape in data]
        if len(given) != 1:
            raise ValidationError("give exactly one of start/end, slots, block or series", "_schema")
        if given == ["start"] and "end" not in data:
            raise ValidationError("required with start", "end")
        if data.get("on_conflict") == "skip" and given[0] not in ("block", "series"):
            raise ValidationError("skip applies to a block or a series", "on_conflict")


class PublishedSchema(SlotSchema):
    """``{count, slots}``; when one slot was published, its own fields too."""

    count = fields.Integer()
    slots = fields.List(fields.Nested(SlotSchema))
    # With on_conflict "skip": the Paris days left out because they already held an overlapping slot.
    skipped_days = fields.List(fields.Date())


class SlotQuerySchema(Schema):
    practitioner_id = Id()
    from_ = InstantOrDay(data_key="from")
    to = InstantOrDay()
    status = fields.String(validate=validate.OneOf(SlotStatus.values()))


class ImportQuerySchema(Schema):
    practitioner_id = Id()
    slot_minutes = fields.Integer(load_default=15, validate=validate.Range(min=1, max=24 * 60))
    mode = fields.String(load_default=SlotMode.OFFICE.value, validate=validate.OneOf(SlotMode.values()))


class SkippedSchema(Schema):
    uid = fields.String(allow_none=True)
    start = fields.String(allow_none=True)
    reason = fields.String()
    message = fields.String()


class ImportResultSchema(Schema):
    created = fields.Integer()
    slots = fields.List(fields.Nested(SlotSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))
