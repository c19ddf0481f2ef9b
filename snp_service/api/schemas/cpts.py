"""Schemas of the CPTS record: communes, seasons in summary, the record itself."""
from marshmallow import Schema, fields, validate

from ...models import INDICATORS

from .common import BoundedDate, BoundedDict, BoundedList, ChangesSchema, Finess, Insee, Name, PostalCode


class CommuneSchema(Schema):
    insee = Insee(required=True)
    name = Name(200, required=True)
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    postal_code = PostalCode(allow_none=True)


class SeasonSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()


class CptsSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Name(200, required=True)
    population = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    size_class = fields.Integer(dump_only=True)
    communes = BoundedList(fields.Nested(CommuneSchema), max_items=500, load_default=list)
    regulation_area = fields.String(allow_none=True, validate=validate.Length(max=100))
    finess = Finess(allow_none=True)
    aci_signed_on = BoundedDate(allow_none=True)
    aci_missions = BoundedList(fields.String(validate=validate.Length(max=200)), max_items=50)
    indicator_targets = BoundedDict(max_keys=len(INDICATORS), keys=fields.String(validate=validate.Length(max=50)),
                                    values=fields.Float(allow_none=True))
    seasons = fields.List(fields.Nested(SeasonSummarySchema), dump_only=True)


class CptsUpdateSchema(CptsSchema, ChangesSchema):
    """PATCH body: any subset of the record's fields (loaded with partial=True)."""
