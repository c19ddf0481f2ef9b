"""Fields and schemas shared by several areas of the API."""
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from ...database import MAX_ID
from ...hygiene import name_problem
from ...timeutil import to_paris

Rpps = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{11}$", error="11 digits"), **kw)  # noqa: E731
# FINESS: 9 characters, Corsica's departments 2A/2B included; SIRET: 14 digits; French postal code: 5 digits.
Finess = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{2}|2[AB])\d{7}$", error="9-character FINESS number"), **kw)  # noqa: E731
Siret = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{14}$", error="14 digits"), **kw)  # noqa: E731
PostalCode = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{5}$", error="5 digits"), **kw)  # noqa: E731
Insee = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{5}|2[AB]\d{3})$", error="5-character INSEE code"), **kw)  # noqa: E731


def _readable(text: str) -> None:
    problem = name_problem(text)
    if problem:
        raise ValidationError(problem)


def Name(max_length: int = 100, **kwargs) -> fields.String:  # noqa: N802 (a field factory, like Rpps)
    """A name people read: 1 to ``max_length`` characters, at least one of them visible, no bidirectional
    control (``hygiene.name_problem``)."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), _readable], **kwargs)


EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


def Id(*, strict: bool = False, **kwargs) -> fields.Integer:  # noqa: N802 (a field factory, like Rpps)
    """A row id: positive and within the INTEGER column (a larger one would be a database error, a 500).

    ``strict=True`` for JSON bodies, where ``1.5`` must not silently become ``1``."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class BoundedAwareDateTime(fields.AwareDateTime):
    """An aware datetime between 1900 and 2200: the far ends of Python's calendar overflow when converted."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_range = EARLIEST <= moment.astimezone(timezone.utc) < LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            raise ValidationError("Out of range (1900-2199).")
        return moment


def aware_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601 with an offset; a naive time is refused rather than guessed."""
    return BoundedAwareDateTime(format="iso", **kwargs)


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


__all__ = ["Rpps", "Insee", "Finess", "Siret", "PostalCode", "Id", "Name", "aware_datetime", "BoundedAwareDateTime", "ErrorSchema",
           "ValidationError"]


class ParisDateTime(fields.AwareDateTime):
    """Dumps an instant as Europe/Paris time with its offset; loads any ISO 8601 time with an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_paris(value).isoformat()
