"""Schemas of bookings: book, cancel, move, outcome, list."""
from marshmallow import Schema, fields, validate

from ...models import BookingStatus, CancelledBy, Channel, Outcome, TreatingDoctor
from .common import BoundedDate, Id, Insee, Name, ParisDateTime, Rpps, aware_datetime
from .practitioners import PractitionerSummarySchema
from .slots import SlotSchema



class PatientSchema(Schema):
    first_name = Name(required=True)
    last_name = Name(required=True)
    birth_date = BoundedDate(required=True)
    phone = fields.String(required=True, validate=validate.Length(min=1, max=30))
    commune_insee = Insee(allow_none=True, load_default=None)
    has_treating_doctor = fields.String(load_default=TreatingDoctor.UNKNOWN.value,
                                        validate=validate.OneOf(TreatingDoctor.values()))
    treating_rpps = Rpps(allow_none=True, load_default=None)


class BookingRequestSchema(Schema):
    slot_id = Id(required=True, strict=True)
    patient = fields.Nested(PatientSchema, required=True)
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    channel = fields.String(required=True, validate=validate.OneOf(Channel.values()))
    notify_patient = fields.Boolean(load_default=True)


class CancelRequestSchema(Schema):
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    by = fields.String(load_default=None, validate=validate.OneOf(CancelledBy.values()), metadata={"description": (
        "who asked for the cancel, as the caller's role allows: a GP cancels as practitioner; a regulator as "
        "regulator or patient; a coordinator (or admin) as coordinator or patient. Default: the role's own")})


class MoveRequestSchema(Schema):
    slot_id = Id(required=True, strict=True)
    notify_patient = fields.Boolean(load_default=True)


class OutcomeRequestSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(Outcome.values()))


class BookingQuerySchema(Schema):
    from_ = aware_datetime(data_key="from", attribute="from")
    to = aware_datetime()
    practitioner_id = Id()
    status = fields.String(validate=validate.OneOf(BookingStatus.values()))


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
    # When the patient confirmed they will come, from their own link (null: not confirmed).
    confirmed_at = ParisDateTime(allow_none=True)
    # The booking this one replaced by a move (null: the first of its chain).
    replaces_booking_id = fields.Integer(allow_none=True)
    patient = fields.Nested(PatientSchema, allow_none=True)
    slot = fields.Nested(SlotSchema)
    practitioner = fields.Nested(PractitionerSummarySchema, attribute="slot.practitioner")
