"""Fields and schemas shared by several areas of the API.

Every input is bounded before it costs anything (issue 28): each string has a maximum length, each array
a maximum number of items checked before any item is read (``BoundedList``), each map a maximum number of
keys (``BoundedDict``), and reading stops at the first few bad items.
"""

from marshmallow import Schema, ValidationError, fields, utils, validate, validates_schema

from ...core.database import MAX_ID
from ...core.hygiene import name_problem
from ...core.timeutil import BOUNDS_TEXT, FIRST_DAY, LAST_DAY, day_in_bounds, instant_in_bounds, to_paris

# Items a list may hold before reading stops, and bad items reported: a 2 MB array of numbers was one error
# per element (26 s, +770 MB).
MAX_ITEM_ERRORS = 5


def Code(pattern: str, length: int, error: str, **kwargs) -> fields.String:  # noqa: N802 (a field factory)
    """A code of ``length`` characters matching ``pattern`` (the length is the OpenAPI ``maxLength``)."""
    return fields.String(validate=[validate.Length(max=length), validate.Regexp(pattern, error=error)], **kwargs)


Rpps = lambda **kw: Code(r"^\d{11}$", 11, "11 digits", **kw)  # noqa: E731
# FINESS: 9 characters, Corsica's departments 2A/2B included; SIRET: 14 digits; French postal code: 5 digits.
Finess = lambda **kw: Code(r"^(\d{2}|2[AB])\d{7}$", 9, "9-character FINESS number", **kw)  # noqa: E731
Siret = lambda **kw: Code(r"^\d{14}$", 14, "14 digits", **kw)  # noqa: E731
PostalCode = lambda **kw: Code(r"^\d{5}$", 5, "5 digits", **kw)  # noqa: E731
Insee = lambda **kw: Code(r"^(\d{5}|2[AB]\d{3})$", 5, "5-character INSEE code", **kw)  # noqa: E731


def _readable(text: str) -> None:
    problem = name_problem(text)
    if problem:
        raise ValidationError(problem)


def Name(max_length: int = 100, **kwargs) -> fields.String:  # noqa: N802 (a field factory, like Rpps)
    """A name people read: 1 to ``max_length`` characters, at least one of them visible, no bidirectional
    control (``hygiene.name_problem``)."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), _readable], **kwargs)



def Id(*, strict: bool = False, **kwargs) -> fields.Integer:  # noqa: N802 (a field factory, like Rpps)
    """A row id: positive and within the INTEGER column (a larger one would be a database error, a 500).

    ``strict=True`` for JSON bodies, where ``1.5`` must not silently become ``1``."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


OUT_OF_BOUNDS = f"Out of range ({BOUNDS_TEXT})."
# ``2026-07-13T08:00:00.123456+02:00`` is 32 characters.
MAX_DATETIME_LENGTH = 40


class _Bounded:
    """A time or day read from a string of at most ``max_length`` characters (documented as ``maxLength``),
    within the service's date bounds (``timeutil``): the far ends of Python's calendar overflow when converted."""

    max_length = MAX_DATETIME_LENGTH
    in_bounds = staticmethod(day_in_bounds)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("maxLength", self.max_length)
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value) > self.max_length:
            raise ValidationError(f"Longer than maximum length {self.max_length}.")
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not self.in_bounds(moment):
            raise ValidationError(OUT_OF_BOUNDS)
        return moment


class BoundedAwareDateTime(_Bounded, fields.AwareDateTime):
    """An aware datetime (its UTC day within the bounds)."""

    in_bounds = staticmethod(instant_in_bounds)


class BoundedNaiveDateTime(_Bounded, fields.NaiveDateTime):
    """A wall-clock time without offset."""


class BoundedDate(_Bounded, fields.Date):
    """A day ``YYYY-MM-DD`` (seasons, reports, the CPTS record, birth dates)."""

    max_length = 10

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", f"YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY}")
        super().__init__(**kwargs)


def aware_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601 with an offset; a naive time is refused rather than guessed."""
    return BoundedAwareDateTime(format="iso", **kwargs)


class BoundedList(fields.List):
    """A JSON array of at most ``max_items`` items: its length is checked before any item is read, and
    reading stops at the first ``MAX_ITEM_ERRORS`` bad items."""

    def __init__(self, inner, *, max_items: int, min_items: int | None = None, **kwargs):
        # The Length validator documents minItems/maxItems (apispec); _deserialize enforces them first.
        kwargs["validate"] = [validate.Length(min=min_items, max=max_items), *_as_list(kwargs.get("validate"))]
        super().__init__(inner, **kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if not utils.is_collection(value):
            raise self.make_error("invalid")
        if len(value) > self.max_items:
            raise ValidationError(f"Longer than maximum length {self.max_items}.")
        result, errors = [], {}
        for index, item in enumerate(value):
            try:
                result.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as error:
                errors[index] = error.messages
                if len(errors) >= MAX_ITEM_ERRORS:
                    break
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result


class BoundedDict(fields.Dict):
    """A JSON object of at most ``max_keys`` keys, counted before any is read (documented ``maxProperties``)."""

    def __init__(self, *, max_keys: int, **kwargs):
        kwargs.setdefault("metadata", {})["maxProperties"] = max_keys
        super().__init__(**kwargs)
        self.max_keys = max_keys

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict) and len(value) > self.max_keys:
            raise ValidationError(f"At most {self.max_keys} keys.")
        return super()._deserialize(value, attr, data, **kwargs)


def _as_list(validators) -> list:
    return [] if validators is None else list(validators) if isinstance(validators, (list, tuple)) else [validators]


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


__all__ = ["Rpps", "Insee", "Finess", "Siret", "PostalCode", "Code", "Id", "Name", "aware_datetime",
           "BoundedAwareDateTime", "BoundedDate", "BoundedNaiveDateTime", "BoundedList", "BoundedDict", "ChangesSchema",
           "ErrorSchema", "ValidationError"]


class ParisDateTime(fields.AwareDateTime):
    """Dumps an instant as Europe/Paris time with its offset; loads any ISO 8601 time with an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_paris(value).isoformat()
