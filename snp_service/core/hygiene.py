"""Input hygiene at the edge, once for every endpoint (SPEC section 8).

Every string that enters through a query string, a form, a path or a JSON body is refused when it
holds a NUL byte (PostgreSQL cannot store one) or a lone surrogate (no encoder can write one: a 500
on the way out), and is otherwise normalised to NFC, so "Été" typed on a Mac and on Windows is one
name. JSON numbers are bounded by the parser itself: an integer beyond 64 bits is refused before
Python builds it (a 4,300-digit one makes ``int()`` raise), and so are NaN and Infinity. Refusals
are 400s in the API's JSON error format, for every endpoint, before any view runs. A document holding
more values than any request needs is a 413 before it is parsed (issue 28: 330,000 empty objects cost
17 s and +389 MB once parsed and validated; 150,000 unknown keys, 1.7 s and +60 MB without an account).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata

from flask import Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items

from .errors import DomainError

INT64 = 2 ** 63
# Values a JSON body may hold, counted on its text before parsing (commas, "[" and "{": an upper bound of
# its arrays, objects, items and members). The largest legitimate body, a batch of 2,000 slots, holds
# about 6,000.
MAX_JSON_VALUES = 20_000
_MAX_INT_DIGITS = len(str(INT64))
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# Characters that print nothing: controls, formats (zero-width space, joiners, BOM), separators,
# combining marks alone, and the Hangul fillers that fonts draw blank.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"}
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}
# Bidirectional controls (embeddings, overrides, isolates, marks): in a name, U+202E shows
# "Martin\u202enitraM" as "MartinMartin"-like mirror text, so a name reads other than it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# What an e-mail address never holds: controls, formats (bidirectional ones included), spaces.
_NOT_IN_EMAIL = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


class Malformed(DomainError):
    status = 400
    code = "malformed_input"


class TooManyValues(DomainError):
    status = 413
    code = "too_many_values"


def problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return "contains a NUL byte" if found.group() == "\x00" else "contains a lone surrogate (invalid Unicode)"


def clean(text: str, where: str) -> str:
    """``text`` in NFC; a 400 naming ``where`` when it holds a NUL or a lone surrogate."""
    reason = problem(text)
    if reason:
        raise Malformed("Texte invalide : caractère nul ou Unicode invalide", fields={where: [reason]})
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def visible(text: str) -> bool:
    """Whether ``text`` shows at least one character (a name of zero-width spaces is no name)."""
    return any(unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_LETTERS
               for char in text)


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name people read (a person's, a CPTS's, a commune's, a season's), or None."""
    if any(char in BIDI_CONTROLS for char in text):
        return "contains a bidirectional control character"
    if not visible(text):
        return "Must show at least one visible character."
    return None


def hidden_in_email(text: str) -> bool:
    """Whether ``text`` holds a character an e-mail address never does (space, control, format, bidi)."""
    return any(unicodedata.category(char) in _NOT_IN_EMAIL for char in text)


# --- JSON ------------------------------------------------------------------------------------------


class _Refused(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _parse_int(digits: str) -> int:
    # Checked on the text: int() of 4,300 digits or more raises, and anything past 64 bits fits no column.
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS or not -INT64 <= (value := int(digits)) < INT64:
        raise _Refused("integer beyond 64 bits")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("number out of range")
    return value


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not JSON")


def loads(data: str | bytes):
    """A JSON document, strictly: bounded numbers, no NUL or lone surrogate, strings in NFC."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if text.count(",") + text.count("[") + text.count("{") > MAX_JSON_VALUES:
        raise TooManyValues(f"Document JSON trop grand : au plus {MAX_JSON_VALUES} valeurs",
                            fields={"json": [f"at most {MAX_JSON_VALUES} values"]})
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
        return _clean_json(value)
    except _Refused as refused:
        raise Malformed("JSON invalide : " + refused.reason, fields={"json": [refused.reason]}) from None
    except RecursionError:
        raise Malformed("JSON imbriqué trop profondément", fields={"json": ["JSON nested too deeply."]}) from None


def _clean_json(value, where: str = "json"):
    if isinstance(value, str):
        return clean(value, where)
    if isinstance(value, list):
        return [_clean_json(item, where) for item in value]
    if isinstance(value, dict):
        return {clean(key, where): _clean_json(item, key) for key, item in value.items()}
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with ``loads`` above (``request.get_json``)."""

    def loads(self, s, **kwargs):
        return loads(s)


# --- query strings, forms, paths -----------------------------------------------------------------


class NormalisedMultiDict(ImmutableMultiDict):
    """Query and form values in NFC (werkzeug builds ``request.args`` and ``request.form`` with it).

    The NUL and surrogate check is ``check_request``'s, so that it answers with a clear 400
    instead of raising wherever the arguments happen to be read first.
    """

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        super().__init__([(_nfc(key), _nfc(value)) for key, value in iter_multi_items(mapping)])


def _nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) and not value.isascii() else value


class CleanRequest(Request):
    parameter_storage_class = NormalisedMultiDict


def check_request() -> None:
    """Before every view: refuse NUL bytes and lone surrogates in the query, the form, the path and headers."""
    sources = [request.args.items(multi=True), (request.view_args or {}).items()]
    if request.mimetype in _FORM_TYPES:
        # Cached first, so the body stays readable for whoever reads it raw after the form is parsed.
        request.get_data(cache=True, parse_form_data=False)
        sources.append(request.form.items(multi=True))
    for pairs in sources:
        for key, value in pairs:
            reason = problem(key) or (problem(value) if isinstance(value, str) else None)
            if reason:
                name = key if not problem(key) else "parameter"
                raise Malformed("Texte invalide : caractère nul ou Unicode invalide", fields={name: [reason]})
    for key, value in request.headers.items():
        if "\x00" in value:
            raise Malformed("En-tête invalide : caractère nul", fields={key: ["contains a NUL byte"]})
