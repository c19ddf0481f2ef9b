"""Schemas of the treating-doctor look-up: a few fields of the directory, found by name."""
from marshmallow import Schema, fields, validate

LOOKUP_QUERY_LENGTH = validate.Length(min=2, max=50)
LOOKUP_LIMIT = validate.Range(min=1, max=20)


class LookupQuerySchema(Schema):
    q = fields.String(required=True, validate=LOOKUP_QUERY_LENGTH)
    limit = fields.Integer(load_default=10, validate=LOOKUP_LIMIT)


class PractitionerLookupSchema(Schema):
    id = fields.Integer(allow_none=True)  # none: found in the national directory, not a member
    rpps = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    commune_name = fields.String(allow_none=True)
    member = fields.Boolean()  # a member of the area's CPTS (else a médecin of the national directory)


class LookupAnswerSchema(Schema):
    results = fields.List(fields.Nested(PractitionerLookupSchema))
