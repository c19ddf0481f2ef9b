"""Schemas of the regulator's work: slot search, bookings, cancel, move, outcome."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models import BOOKING_STATUSES, CANCELLED_BY, CHANNELS, OUTCOMES, SLOT_MODES, TREATING_DOCTOR_ANSWERS
from .common import Id, Insee, Name, ParisDateTime, Rpps, aware_datetime
from .slots import SlotSchema



class PractitionerSummarySchema(Schema):
    id = fields.Integer()
    rpps = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    address = fields.String(allow_none=True)
    commune_insee = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class SearchQuerySchema(Schema):
    from_ = aware_datetime(data_key="from", attribute="from")
    to = aware_datetime()
    commune = Insee()
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    radius_km = fields.Float(validate=validate.Range(min=0.1, max=300))
    treating_rpps = Rpps()
    mode = fields.String(validate=validate.OneOf(SLOT_MODES))
    limit = fields.Integer(validate=validate.Range(min=1, max=100))

    @validates_schema
    def both_coordinates(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("lat and lon go together", field_name="lat" if "lon" in data else "lon")


class SearchResultSchema(Schema):
    slot = fields.Nested(SlotSchema)
    practitioner = fields.Nested(PractitionerSummarySchema)
    distance_km = fields.Float(allow_none=True)
    is_treating_doctor = fields.Boolean()


class SearchAnswerSchema(Schema):
    results = fields.List(fields.Nested(SearchResultSchema))


class PatientSchema(Schema):
    first_name = Name(required=True)
    last_name = Name(required=True)
    birth_date = fields.Date(required=True)
    phone = fields.String(required=True, validate=validate.Length(min=1, max=30))
    commune_insee = Insee(allow_none=True, load_default=None)
    has_treating_doctor = fields.String(load_default="unknown", validate=validate.OneOf(TREATING_DOCTOR_ANSWERS))
    treating_rpps = Rpps(allow_none=True, load_default=None)


class BookingRequestSchema(Schema):
    slot_id = Id(required=True, strict=True)
    patient = fields.Nested(PatientSchema, required=True)
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    notify_patient = fields.Boolean(load_default=True)


class CancelRequestSchema(Schema):
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    by = fields.String(required=True, validate=validate.OneOf(CANCELLED_BY))


class MoveRequestSchema(Schema):
    slot_id = Id(required=True, strict=True)
    notify_patient = fields.Boolean(load_default=True)


class OutcomeRequestSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))


class BookingQuerySchema(Schema):
    from_ = aware_datetime(data_key="from", attribute="from")
    to = aware_datetime()
    practitioner_id = Id()
    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))


class BookingSchema(Schema):
    id = fields.Integer()
    slot_id = fields.Integer()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    channel = fields.String()
    reason = fields.String(allow_none=True)
    created_at = ParisDateTime()
    has_treating_doctor = fields.String(allow_none=True)
    by_treating_doctor = fields.Boolean()
    cancelled_at = ParisDateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    patient = fields.Nested(PatientSchema, allow_none=True)
    slot = fields.Nested(SlotSchema)
    practitioner = fields.Nested(PractitionerSummarySchema, attribute="slot.practitioner")
