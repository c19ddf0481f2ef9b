"""Schemas of fill-rate reports."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...reporting.fill_rate import GROUPINGS
from .common import BoundedDate, Id

MAX_REPORT_DAYS = 731
FORMATS = ("json", "csv", "xlsx")


class FileOptionsSchema(Schema):
    """Options of the CSV file: French Excel by default."""
    group_by = fields.String(load_default="day", validate=validate.OneOf(GROUPINGS), metadata={"description": (
        "breakdown key. channel: a slot has no channel until booked, so each channel's row is the slots "
        "filled through it over every offered slot of the period (offered = the period's total; the "
        "channels' fill rates add up to the overall one)")})
    sep = fields.String(load_default=";", validate=validate.OneOf([";", ","]))
    decimal = fields.String(load_default="comma", validate=validate.OneOf(["comma", "point"]))


class FillRateQuerySchema(FileOptionsSchema):
    cpts_id = Id(required=True)
    start = BoundedDate(required=True, data_key="from")
    end = BoundedDate(required=True, data_key="to")
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @validates_schema
    def _period(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError("must not be before from", "to")
        if (data["end"] - data["start"]).days >= MAX_REPORT_DAYS:
            raise ValidationError(f"at most {MAX_REPORT_DAYS} days after from", "to")


class BreakdownRowSchema(Schema):
    key = fields.Raw()
    label = fields.String()
    rpps = fields.String()
    commune_insee = fields.String(allow_none=True)
    offered = fields.Integer()
    filled = fields.Integer()
    fill_rate = fields.Float(allow_none=True)


class SummarySchema(Schema):
    offered = fields.Integer()
    filled = fields.Integer()
    fill_rate = fields.Float(allow_none=True)
    avg_offered_per_day = fields.Float()
    practitioners = fields.Integer()
    bookings_by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    share_without_treating_doctor = fields.Float(allow_none=True)
    no_show_rate = fields.Float(allow_none=True)
    regulated_acts = fields.Integer()
    supplement_cents = fields.Integer()
    requests_sent = fields.Integer(metadata={"description": "slot requests sent in the period"})
    requests_accepted = fields.Integer()
    requests_expired = fields.Integer()
    median_minutes_to_accept = fields.Float(allow_none=True, metadata={
        "description": "median minutes from a request to its acceptance; null when none was accepted"})
    # Issue 24: bookings cancelled by the patient, share confirmed from the patient's link, no-shows of each.
    patient_cancellations = fields.Integer()
    confirmed_share = fields.Float(allow_none=True)
    no_show_rate_confirmed = fields.Float(allow_none=True)
    no_show_rate_unconfirmed = fields.Float(allow_none=True)


class ReportSchema(Schema):
    group_by = fields.String()
    summary = fields.Nested(SummarySchema)
    breakdown = fields.List(fields.Nested(BreakdownRowSchema))
