"""Password policy (SPEC section 8): every path that sets a password goes through ``check_new_password``.

- at least 12 characters;
- not guessable from the lists of common and leaked passwords, words and names that ``zxcvbn``
  ships (offline: no network call), with their usual disguises (case, l33t, digits or a year
  around a word, repeats, keyboard rows, sequences): zxcvbn's score must be 3 or more, which is
  about 10^8 guesses;
- not the e-mail or close to it;
- not the demo's password, published in the README, where ``ALLOW_DEMO_PASSWORD`` is off (production).
"""
from __future__ import annotations

import difflib
import re

from flask import current_app
from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES

from .errors import Invalid

MIN_LENGTH = 12
# zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from an offline slow-hash scenario".
MIN_SCORE = 3
# zxcvbn's cost grows with the length; beyond this the tail adds nothing to the verdict.
_SCORED_PREFIX = 64
DEMO_PASSWORD = "snp-demo-2026"
# What a password must hold beyond the words of the e-mail.
_MIN_OWN_CHARACTERS = 6
# Dictionaries of zxcvbn's that are lists of real passwords (the others are words and names).
_PASSWORD_LISTS = {"passwords"}


def demo_password_allowed() -> bool:
    return bool(current_app.config.get("ALLOW_DEMO_PASSWORD", False))


def is_refused_demo_password(password: str) -> bool:
    return password == DEMO_PASSWORD and not demo_password_allowed()


def password_problem(password: str, email: str) -> tuple[str, str] | None:
    """Why ``password`` may not be used by the account ``email``: (English field note, French sentence), or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters", f"Il doit compter au moins {MIN_LENGTH} caractères."
    if is_refused_demo_password(password):
        return "published demo password", "C'est celui de la démonstration, publié : il est refusé en production."
    if _close_to_email(password, email):
        return "close to the email", "Il ne doit pas reprendre l'adresse e-mail."
    verdict = zxcvbn(password[:_SCORED_PREFIX], user_inputs=_email_parts(email))
    dictionaries = {match.get("dictionary_name") for match in verdict["sequence"]}
    if verdict["score"] >= MIN_SCORE and not _listed_word_with_affixes(password):
        return None
    if dictionaries & _PASSWORD_LISTS or _listed_word_with_affixes(password):
        return ("common or leaked password", "Il figure, à peu de chose près, dans les listes de mots de passe "
                "courants ou divulgués : choisissez-en un autre.")
    if "user_inputs" in dictionaries:
        return "close to the email", "Il ne doit pas reprendre l'adresse e-mail."
    return ("too easy to guess", "Il est trop facile à deviner (répétitions, suites, mots ou dates courants) : "
            "allongez-le, par exemple avec plusieurs mots sans rapport entre eux.")


def check_new_password(password: str, email: str) -> None:
    """Raise ``Invalid`` (422) with the French reason when ``password`` breaks the policy."""
    problem = password_problem(password, email)
    if problem:
        note, sentence = problem
        raise Invalid(f"Mot de passe refusé. {sentence}", code="weak_password", fields={"password": [note]})


def _listed_word_with_affixes(password: str) -> bool:
    """A listed password with only digits or symbols around it (``Marseille2024!``): zxcvbn knows the
    years up to 2019 only, so a word and a recent year scores as if it were strong."""
    stem = _AFFIXES.match(password.lower()).group(1)
    return any(stem in RANKED_DICTIONARIES[name] for name in _PASSWORD_LISTS)


_AFFIXES = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


def _email_parts(email: str) -> list[str]:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    parts = [email, local, domain.split(".")[0] if domain else ""]
    parts += re.split(r"[^0-9a-zà-ÿ]+", local)
    return [part for part in parts if len(part) >= 3]


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-zà-ÿ]", "", text.lower())


def _close_to_email(password: str, email: str) -> bool:
    """The e-mail or its local part inside the password (or the reverse), a near copy of either, or the
    local part's words reshuffled with little else (``dupont-jean-1985`` for ``jean.dupont@...``)."""
    password_letters = _letters(password)
    email = (email or "").strip().lower()
    local = email.partition("@")[0]
    for candidate in {_letters(email), _letters(local)}:
        if len(candidate) < 4:
            continue
        if candidate in password_letters or (len(password_letters) >= 4 and password_letters in candidate):
            return True
        if difflib.SequenceMatcher(None, password_letters, candidate).ratio() >= 0.75:
            return True
    words = [word for word in re.split(r"[^0-9a-zà-ÿ]+", local) if len(word) >= 3]
    rest = password_letters
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != password_letters and len(rest) < _MIN_OWN_CHARACTERS
