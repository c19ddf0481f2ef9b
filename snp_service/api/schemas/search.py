"""Schemas of the regulator's slot search."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models import SLOT_MODES
from .common import Insee, Rpps, aware_datetime
from .practitioners import PractitionerSummarySchema
from .slots import SlotSchema


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
