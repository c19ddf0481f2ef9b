"""Schemas of the regulator's slot search."""
from functools import cache

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models import Profession, SlotMode
from .common import Insee, Rpps, aware_datetime
from .practitioners import PractitionerSummarySchema


class SearchQuerySchema(Schema):
    from_ = aware_datetime(data_key="from", attribute="from")
    to = aware_datetime()
    commune = Insee()
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    radius_km = fields.Float(validate=validate.Range(min=0.1, max=300))
    treating_rpps = Rpps()
    mode = fields.String(validate=validate.OneOf(SlotMode.values()))
    limit = fields.Integer(validate=validate.Range(min=1, max=100))
    profession = fields.String(validate=validate.OneOf(Profession.values()),
                               metadata={"description": "Only this profession; absent: every profession"})

    @validates_schema
    def both_coordinates(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("lat and lon go together", field_name="lat" if "lon" in data else "lon")


class SearchSlotSchema(Schema):
    """A slot of a search answer; its times in Europe/Paris with their offset, like every slot of the API."""

    id = fields.Integer()
    practitioner_id = fields.Integer()
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(metadata={"format": "date-time"})
    mode = fields.String()
    status = fields.String()


class SearchResultSchema(Schema):
    slot = fields.Nested(SearchSlotSchema)
    practitioner = fields.Nested(PractitionerSummarySchema)
    distance_km = fields.Float(allow_none=True)
    is_treating_doctor = fields.Boolean()


class SearchAnswerSchema(Schema):
    """The search's answer, cut to these fields: the schema is what the client gets.

    The search builds its results as plain JSON (they serve error bodies and pages too), so
    dumping keeps the declared fields, nested ones included, exactly as marshmallow would for
    such values, without converting each value again: a marshmallow pass over 20 results costs
    about a millisecond, a sixth of a whole search on the shared machine.
    """

    results = fields.List(fields.Nested(SearchResultSchema))
    later = fields.List(fields.Nested(SearchResultSchema), metadata={
        "description": "With fewer than 3 results: the next free slots after the window, earliest first, within "
                       "the radius then beyond it up to 100 km (at most 5)"})

    def dump(self, obj, *, many=None):
        return _project(type(self), obj)


def _project(schema: type[Schema], value: dict) -> dict:
    return {key: value[attribute] if nested is None else
            [_project(nested, item) for item in value[attribute]] if many else _project(nested, value[attribute])
            for key, attribute, nested, many in _plan(schema) if attribute in value}


@cache
def _plan(schema: type[Schema]) -> tuple[tuple[str, str, type[Schema] | None, bool], ...]:
    """(output key, input key, nested schema, list of them) of each field of ``schema``."""
    plan = []
    for name, field in schema._declared_fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        nested = inner.nested if isinstance(inner, fields.Nested) else None
        plan.append((field.data_key or name, field.attribute or name, nested, isinstance(field, fields.List)))
    return tuple(plan)
