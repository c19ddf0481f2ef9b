"""Schemas of slot requests ("demandes de créneau")."""
from marshmallow import Schema, fields, validate

from ...models import Channel, Profession, SlotMode, SlotRequestStatus
from .bookings import BookingSchema, PatientSchema
from .common import Insee, aware_datetime


class SlotRequestCreateSchema(Schema):
    patient = fields.Nested(PatientSchema, required=True)
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    channel = fields.String(required=True, validate=validate.OneOf(Channel.values()))
    commune_insee = Insee(required=True, metadata={"description": "the patient's commune: the radius is around it"})
    profession = fields.String(load_default=Profession.GP.value, validate=validate.OneOf(Profession.values()))
    mode = fields.String(load_default=SlotMode.OFFICE.value, validate=validate.OneOf(SlotMode.values()))
    not_before = aware_datetime(required=True)
    not_after = aware_datetime(required=True, metadata={"description": "after not_before and now; at most 7 days on"})
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=100, min_inclusive=False))
    notify_patient = fields.Boolean(load_default=True)


class SlotRequestQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(SlotRequestStatus.values()))


class SlotRequestAcceptSchema(Schema):
    start = aware_datetime(required=True, metadata={"description": "the new slot's start, inside the window; "
                                                                   "it lasts the practitioner's usual length"})


class SlotRequestSchema(Schema):
    """A request's state: ``recipients`` and ``seen`` are counts of practitioners."""

    id = fields.Integer()
    status = fields.String()
    recipients = fields.Integer()
    seen = fields.Integer()
    booking_id = fields.Integer(allow_none=True)
    profession = fields.String()
    mode = fields.String()
    commune_insee = fields.String()
    radius_km = fields.Float()
    not_before = fields.String(metadata={"format": "date-time"})
    not_after = fields.String(metadata={"format": "date-time"})
    expires_at = fields.String(metadata={"format": "date-time"})
    created_at = fields.String(metadata={"format": "date-time"})
    accepted_by = fields.String(allow_none=True, metadata={"description": "the accepting practitioner's name"})
    accepted_start = fields.String(allow_none=True, metadata={"format": "date-time"})


class SlotRequestAcceptedSchema(Schema):
    booking = fields.Nested(BookingSchema)


class SeenSchema(Schema):
    first_time = fields.Boolean()
