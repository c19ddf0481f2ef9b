"""Fields and schemas shared by several areas of the API."""
from marshmallow import Schema, ValidationError, fields, validate

Rpps = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{11}$", error="11 digits"), **kw)  # noqa: E731
Insee = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{5}|2[AB]\d{3})$", error="5-character INSEE code"), **kw)  # noqa: E731


def aware_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601 with an offset; a naive time is refused rather than guessed."""
    return fields.AwareDateTime(format="iso", **kwargs)


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


__all__ = ["Rpps", "Insee", "aware_datetime", "ErrorSchema", "ValidationError"]
