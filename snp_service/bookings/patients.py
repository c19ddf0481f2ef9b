"""The patient of a booking: the minimal data the SPEC allows, checked and normalised.

Error messages name the field and the rule, never the value typed: a wrong
phone number is still somebody's phone number.
"""
from __future__ import annotations

from datetime import date

import phonenumbers

from ..core.errors import Invalid
from ..core.hygiene import name_problem, visible
from ..core.timeutil import paris_today
from ..models import TreatingDoctor

MAX_AGE_YEARS = 120
# The caller's own number is French unless it is typed with its country code.
DEFAULT_REGION = "FR"
PATIENT_FIELDS = ("first_name", "last_name", "birth_date", "phone", "commune_insee", "has_treating_doctor",
                  "treating_rpps")


def normalise_phone(raw: str) -> str | None:
    """The number in E.164 (``+33612345678``), or ``None`` when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def checked_patient(data: dict, today: date | None = None) -> dict:
    """The patient fields, cleaned; raise ``Invalid`` naming every bad field under ``patient``."""
    today = today or paris_today()
    cleaned = {key: data.get(key) for key in PATIENT_FIELDS}
    problems: dict[str, list[str]] = {}
    for key in ("first_name", "last_name"):
        cleaned[key] = " ".join((cleaned[key] or "").split())
        if not visible(cleaned[key]):
            problems[key] = ["required"]
        elif problem := name_problem(cleaned[key]):
            problems[key] = [problem]
    problems.update(_birth_date_problems(cleaned["birth_date"], today))
    phone = normalise_phone(cleaned["phone"] or "")
    if phone is None:
        problems["phone"] = ["not a valid phone number"]
    cleaned["phone"] = phone
    cleaned["has_treating_doctor"] = cleaned["has_treating_doctor"] or TreatingDoctor.UNKNOWN.value
    if cleaned["treating_rpps"] and cleaned["has_treating_doctor"] == TreatingDoctor.NO:
        problems["treating_rpps"] = ["given although the patient has no treating doctor"]
    if problems:
        raise Invalid("Informations patient invalides : " + ", ".join(sorted(problems)),
                      fields={"patient": problems})
    return cleaned


def _birth_date_problems(birth_date: date | None, today: date) -> dict[str, list[str]]:
    if birth_date is None:
        return {"birth_date": ["required"]}
    if birth_date > today:
        return {"birth_date": ["in the future"]}
    if _age(birth_date, today) > MAX_AGE_YEARS:
        return {"birth_date": [f"more than {MAX_AGE_YEARS} years ago"]}
    return {}


def _age(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
