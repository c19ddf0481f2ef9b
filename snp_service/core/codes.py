"""Codes: the values a column may hold, spelled as the API spells them, written once as an enumeration.

A ``Codes`` enumeration is what a model's check constraint lists (``sql_in``), what a schema accepts
(``values()``, for ``validate.OneOf``) and what the code compares with: its members are strings
(``StrEnum``), equal to the text stored and sent, so a member goes to the database, to JSON and to a
template as its value.
"""
from __future__ import annotations

from enum import StrEnum


class Codes(StrEnum):
    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The codes as plain strings, in their order (``"x" in Codes`` needs Python 3.12; this does not)."""
        return tuple(member.value for member in cls)

    @classmethod
    def sql_in(cls, column: str) -> str:
        """A check constraint's condition: ``column IN ('a', 'b')``."""
        return f"{column} IN {cls.values()}"
