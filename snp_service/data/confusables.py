"""Strings that look alike: the skeleton of Unicode's UTS #39 (section 4), for e-mail addresses.

Two strings are confusable when their skeletons are equal: ``pаul@x.fr`` with a Cyrillic ``а`` and
``paul@x.fr`` share the skeleton ``paul@x.fr``. skeleton(X) = NFD(each character of NFD(X), default
ignorable ones removed, replaced by its prototype). The prototypes come from Unicode's
``confusables.txt``, kept beside this module (version and how to update it in its header and in
``tools/make_confusables.py``). One addition: a combining dot above after ``i`` or ``j`` is dropped,
since those letters lose their own dot under it and look the same (``İ`` case-folds to ``i̇``).

A skeleton is for comparing only, never for showing: it is a mixture of scripts.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("confusables.txt")
_SOFT_DOTTED_WITH_DOT = re.compile("([ij])\u0307")
# Default_Ignorable_Code_Point beyond the format characters (category Cf): fillers, variation selectors,
# the combining grapheme joiner. They draw nothing, so a skeleton leaves them out.
_IGNORABLE = frozenset([0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810),
                        *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])


@cache
def _prototypes() -> dict[str, str]:
    prototypes = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, _sep, prototype = line.partition(";")
            prototypes[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in prototype.split())
    return prototypes


def _ignorable(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or ord(char) in _IGNORABLE


def skeleton(text: str) -> str:
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFD", text) if not _ignorable(char))
    return _SOFT_DOTTED_WITH_DOT.sub(r"\1", unicodedata.normalize("NFD", mapped))
