"""Schemas of the ACI indicators of a CPTS."""
from marshmallow import Schema, fields, validate


class IndicatorQuerySchema(Schema):
    period = fields.String(required=True, validate=validate.Length(min=4, max=30),
                           metadata={"description": "YYYY-MM, YYYY-Qn, YYYY or season:<id>"})


class IndicatorSchema(Schema):
    code = fields.String()
    label = fields.String()
    value = fields.Raw()
    target = fields.Float(allow_none=True)
    achievement = fields.Float(allow_none=True)


class IndicatorsSchema(Schema):
    period = fields.String()
    computed_at = fields.AwareDateTime(format="iso")
    indicators = fields.List(fields.Nested(IndicatorSchema))
