from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenUserSchema(Schema):
    id = fields.Integer()
    role = fields.String()
    cpts_ids = fields.List(fields.Integer())
    practitioner_id = fields.Integer(allow_none=True)


class TokenResponseSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime(format="iso")
    user = fields.Nested(TokenUserSchema)
