"""Schemas of seasons, their report and the comparison of two seasons."""
from marshmallow import Schema, fields, validate

from .common import BoundedDate, ChangesSchema, Id, Name
from .reports import FORMATS, BreakdownRowSchema, FileOptionsSchema, ReportSchema, SummarySchema


class SeasonSchema(Schema):
    id = fields.Integer(dump_only=True)
    cpts_id = Id(strict=True, required=True)
    name = Name(required=True)
    start_date = BoundedDate(required=True)
    end_date = BoundedDate(required=True)


class SeasonUpdateSchema(ChangesSchema):
    name = Name()
    start_date = BoundedDate()
    end_date = BoundedDate()


class SeasonListQuerySchema(Schema):
    cpts_id = Id(required=True)


class SeasonReportQuerySchema(FileOptionsSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS + ("html",)))


class CompareQuerySchema(Schema):
    a = Id(required=True)
    b = Id(required=True)


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
