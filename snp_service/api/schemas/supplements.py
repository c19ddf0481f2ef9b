"""Schemas of the supplement statement."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...core.timeutil import BOUNDS_TEXT, month_in_bounds
from .common import Id


def _month(text: str) -> None:
    if not month_in_bounds(text):
        raise ValidationError(f"expected YYYY-MM ({BOUNDS_TEXT})")


class StatementQuerySchema(Schema):
    cpts_id = Id(required=True)
    month = fields.String(validate=[validate.Length(equal=7), _month], metadata={"description": "YYYY-MM (or give season_id)"})
    season_id = Id(metadata={"description": "a season of the CPTS (or give month)"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))
    detail = fields.Boolean(load_default=False, metadata={"description": "every act with its verdict (CSV: one row per act)"})
    sep = fields.String(load_default=";", validate=validate.OneOf([";", ","]))
    decimal = fields.String(load_default="comma", validate=validate.OneOf(["comma", "point"]))

    @validates_schema
    def one_period(self, data, **kwargs):
        if ("month" in data) == ("season_id" in data):
            raise ValidationError("give either month or season_id", field_name="month")


class StatementLineSchema(Schema):
    practitioner_id = fields.Integer()
    rpps = fields.String()
    last_name = fields.String()
    first_name = fields.String()
    acts = fields.Raw(metadata={"description": "acts earning the supplement; with detail=1, every act with its verdict"})
    eligible_acts = fields.Integer()
    amount_cents = fields.Integer()


class StatementSchema(Schema):
    month = fields.String()
    season = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    lines = fields.List(fields.Nested(StatementLineSchema))
    total_cents = fields.Integer()
