"""FHIR R4 primitive types in JSON: the JSON type each must have and the regex of the R4 datatypes page."""
from __future__ import annotations

import re
from datetime import date

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

_PATTERNS = {
    "string": r"[ \r\n\t\S]+",
    "markdown": r"[ \r\n\t\S]+",
    "code": r"[^\s]+( [^\s]+)*",
    "id": r"[A-Za-z0-9\-\.]{1,64}",
    "uri": r"\S*",
    "url": r"\S*",
    "canonical": r"\S*",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
    "instant": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _ZONE,
    "dateTime": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _ZONE + r")?)?)?",
    "date": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
    "time": _TIME,
    "xhtml": r"[\s\S]+",
}
_REGEX = {name: re.compile(pattern) for name, pattern in _PATTERNS.items()}
_INTEGER_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "positiveInt": (1, 2**31 - 1), "unsignedInt": (0, 2**31 - 1)}

PRIMITIVE_TYPES = frozenset(_PATTERNS) | frozenset(_INTEGER_BOUNDS) | {"boolean", "decimal"}


def is_primitive(type_code: str) -> bool:
    return type_code in PRIMITIVE_TYPES


def check(type_code: str, value) -> str | None:
    """Why `value` is not a valid FHIR `type_code` in JSON, or None."""
    if type_code == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a JSON boolean"
    if type_code in _INTEGER_BOUNDS:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{value!r} is not a JSON integer ({type_code})"
        low, high = _INTEGER_BOUNDS[type_code]
        return None if low <= value <= high else f"{value} is outside the range of {type_code}"
    if type_code == "decimal":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not a JSON number (decimal)"
    if not isinstance(value, str):
        return f"{value!r} is not a JSON string ({type_code})"
    regex = _REGEX.get(type_code)
    if regex is not None and not regex.fullmatch(value):
        return f"{value!r} is not a valid {type_code}"
    if type_code in ("date", "dateTime", "instant") and len(value) >= 10:
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            return f"{value!r} is not a valid {type_code}: no such day"
    return None
