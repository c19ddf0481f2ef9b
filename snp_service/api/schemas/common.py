"""Fields and schemas shared by several areas of the API."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...database import MAX_ID
from ...hygiene import visible
from ...timeutil import BOUNDS_TEXT, FIRST_DAY, LAST_DAY, day_in_bounds, instant_in_bounds, to_paris

Rpps = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{11}$", error="11 digits"), **kw)  # noqa: E731
# FINESS: 9 characters, Corsica's departments 2A/2B included; SIRET: 14 digits; French postal code: 5 digits.
Finess = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{2}|2[AB])\d{7}$", error="9-character FINESS number"), **kw)  # noqa: E731
Siret = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{14}$", error="14 digits"), **kw)  # noqa: E731
PostalCode = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{5}$", error="5 digits"), **kw)  # noqa: E731
Insee = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{5}|2[AB]\d{3})$", error="5-character INSEE code"), **kw)  # noqa: E731


def _visible(text: str) -> None:
    if not visible(text):
        raise ValidationError("Must show at least one visible character.")


def Name(max_length: int = 100, **kwargs) -> fields.String:  # noqa: N802 (a field factory, like Rpps)
    """A name people read: 1 to ``max_length`` characters, at least one of them visible."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), _visible], **kwargs)



def Id(*, strict: bool = False, **kwargs) -> fields.Integer:  # noqa: N802 (a field factory, like Rpps)
    """A row id: positive and within the INTEGER column (a larger one would be a database error, a 500).

    ``strict=True`` for JSON bodies, where ``1.5`` must not silently become ``1``."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


OUT_OF_BOUNDS = f"Out of range ({BOUNDS_TEXT})."


class BoundedAwareDateTime(fields.AwareDateTime):
    """An aware datetime within the service's date bounds (``timeutil``): the far ends of Python's calendar
    overflow when converted."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not instant_in_bounds(moment):
            raise ValidationError(OUT_OF_BOUNDS)
        return moment


class BoundedNaiveDateTime(fields.NaiveDateTime):
    """A wall-clock time without offset, within the service's date bounds."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not day_in_bounds(moment):
            raise ValidationError(OUT_OF_BOUNDS)
        return moment


class BoundedDate(fields.Date):
    """A day ``YYYY-MM-DD`` within the service's date bounds (seasons, reports, the CPTS record)."""

    def __init__(self, **kwargs):
        # The range is documented (OpenAPI) by the metadata; the check is ``_deserialize``'s.
        kwargs.setdefault("metadata", {}).setdefault("description", f"YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY}")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not day_in_bounds(day):
            raise ValidationError(OUT_OF_BOUNDS)
        return day


def aware_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601 with an offset; a naive time is refused rather than guessed."""
    return BoundedAwareDateTime(format="iso", **kwargs)


class ChangesSchema(Schema):
    """A PATCH body: at least one field to change. An empty body (or none) changes nothing, so it is a 422
    saying so, never a 200 that a client would read as done."""

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one field to change", "_schema")


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


__all__ = ["Rpps", "Insee", "Finess", "Siret", "PostalCode", "Id", "Name", "aware_datetime", "BoundedAwareDateTime",
           "BoundedDate", "BoundedNaiveDateTime", "ErrorSchema", "ValidationError"]


class ParisDateTime(fields.AwareDateTime):
    """Dumps an instant as Europe/Paris time with its offset; loads any ISO 8601 time with an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_paris(value).isoformat()
