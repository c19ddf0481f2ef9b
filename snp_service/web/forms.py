"""The pages' forms speak French: WTForms' own French messages, and Flask-WTF's CSRF refusals said plainly."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.i18n import get_translations

_CSRF = {
    "The CSRF token is missing.": "La page a expiré : rechargez-la puis recommencez.",
    "The CSRF token is invalid.": "La page a expiré : rechargez-la puis recommencez.",
    "The CSRF token has expired.": "La page a expiré : rechargez-la puis recommencez.",
    "The CSRF session token is missing.": "La page a expiré : rechargez-la puis recommencez.",
}


class _French:
    def __init__(self):
        self._wtforms = get_translations(["fr"])

    def gettext(self, string: str) -> str:
        return _CSRF.get(string) or self._wtforms.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._wtforms.ngettext(singular, plural, n)


FRENCH = _French()


class FrenchForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return FRENCH
