"""National identifiers typed by people: RPPS, SIRET and FINESS, and their check keys.

The RPPS (11 digits) and the SIRET (14 digits) end with a Luhn key; a FINESS has 9 characters
(Corsica's 2A/2B) and its last digit is the Luhn key of the 8 before it when they are digits.
"""
from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    return _luhn_sum(digits) % 10 == 0


def with_luhn_key(digits: str) -> str:
    """``digits`` followed by their Luhn key (made-up numbers that pass the check: the demo, the tests)."""
    return digits + str(-_luhn_sum(digits + "0") % 10)


def _luhn_sum(digits: str) -> int:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total


def rpps_problem(value: str) -> str | None:
    """Why ``value`` is no RPPS number (in French), or None."""
    if len(value) != 11 or not value.isdigit():
        return "Le RPPS compte 11 chiffres"
    if not luhn_valid(value):
        return "Ce RPPS n'existe pas : sa clé (dernier chiffre) ne correspond pas, vérifiez la saisie"
    return None


def siret_problem(value: str) -> str | None:
    if len(value) != 14 or not value.isdigit():
        return "Le SIRET compte 14 chiffres"
    if not luhn_valid(value):
        return "Ce SIRET n'existe pas : sa clé ne correspond pas, vérifiez la saisie"
    return None


def finess_problem(value: str) -> str | None:
    if len(value) != 9 or not (value.isdigit() or (value[:2] in ("2A", "2B") and value[2:].isdigit())):
        return "Le FINESS compte 9 caractères (chiffres, 2A ou 2B pour la Corse)"
    if value.isdigit() and not luhn_valid(value):
        return "Ce FINESS n'existe pas : sa clé ne correspond pas, vérifiez la saisie"
    return None
