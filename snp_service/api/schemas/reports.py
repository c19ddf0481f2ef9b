"""Schemas of seasons, fill-rate reports and the history import."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...reporting import GROUPINGS
from .common import Id, Name

MAX_REPORT_DAYS = 731
FORMATS = ("json", "csv", "xlsx")


class SeasonSchema(Schema):
    id = fields.Integer(dump_only=True)
    cpts_id = Id(strict=True, required=True)
    name = Name(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class SeasonUpdateSchema(Schema):
    name = Name()
    start_date = fields.Date()
    end_date = fields.Date()


class SeasonListQuerySchema(Schema):
    cpts_id = Id(required=True)


class FileOptionsSchema(Schema):
    """Options of the CSV file: French Excel by default."""
    group_by = fields.String(load_default="day", validate=validate.OneOf(GROUPINGS))
    sep = fields.String(load_default=";", validate=validate.OneOf([";", ","]))
    decimal = fields.String(load_default="comma", validate=validate.OneOf(["comma", "point"]))


class SeasonReportQuerySchema(FileOptionsSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS + ("html",)))


class FillRateQuerySchema(FileOptionsSchema):
    cpts_id = Id(required=True)
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @validates_schema
    def _period(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError("must not be before from", "to")
        if (data["end"] - data["start"]).days >= MAX_REPORT_DAYS:
            raise ValidationError(f"at most {MAX_REPORT_DAYS} days after from", "to")


class CompareQuerySchema(Schema):
    a = Id(required=True)
    b = Id(required=True)


class HistoryImportQuerySchema(Schema):
    cpts_id = Id(required=True)


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


class ReportSchema(Schema):
    group_by = fields.String()
    summary = fields.Nested(SummarySchema)
    breakdown = fields.List(fields.Nested(BreakdownRowSchema))


class SeasonReportSchema(ReportSchema):
    season = fields.Nested(SeasonSchema)
    breakdowns = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(BreakdownRowSchema)))


class ComparedFigureSchema(Schema):
    code = fields.String()
    label = fields.String()
    a = fields.Raw(allow_none=True)
    b = fields.Raw(allow_none=True)
    difference = fields.Float(allow_none=True)


class ComparedSideSchema(Schema):
    season = fields.Nested(SeasonSchema)
    summary = fields.Nested(SummarySchema)


class WeeklyPointSchema(Schema):
    week = fields.Integer()
    a = fields.Float(allow_none=True)
    b = fields.Float(allow_none=True)


class ComparisonSchema(Schema):
    a = fields.Nested(ComparedSideSchema)
    b = fields.Nested(ComparedSideSchema)
    figures = fields.List(fields.Nested(ComparedFigureSchema))
    weekly = fields.List(fields.Nested(WeeklyPointSchema))


class HistoryImportResultSchema(Schema):
    slots = fields.Integer()
    bookings = fields.Integer()
    withdrawn = fields.Integer()
