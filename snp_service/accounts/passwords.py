"""Password policy (SPEC section 8): every path that sets a password goes through ``check_new_password``.

- at least 12 characters;
- not guessable from the lists of common and leaked passwords, words and names that ``zxcvbn``
  ships (offline: no network call), with their usual disguises (case, l33t, digits or a year
  around a word, repeats, keyboard rows, sequences): zxcvbn's score must be 3 or more, which is
  about 10^8 guesses;
- not the e-mail or close to it;
- not made of the service's own words (SNP, soins non programmés, régulation, CPTS, 116 117, SAS...)
  or of the deployment's names (CPTS, regulation areas, communes), with little else (``Regulation116117``,
  ``Cpts-Vendee-2026``): they are the first words an attacker tries against this service. They are
  also zxcvbn's ``user_inputs``, with the e-mail's parts, so that they count as guessable inside a
  longer password;
- not the demo's password, published in the README, where ``ALLOW_DEMO_PASSWORD`` is off (production).
"""
from __future__ import annotations

import difflib
import re
import unicodedata

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES

from ..core.errors import Invalid
from ..core.extensions import db
from ..models import Commune, Cpts

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
# The words of the service and its trade that anyone guessing a password here tries first.
SERVICE_WORDS = (
    "SNP", "soins non programmés", "soins non programmé", "régulation", "régulateur", "régulatrice", "regulation",
    "regulator", "CPTS", "communauté professionnelle territoriale de santé", "116117", "116 117", "SAS",
    "service d'accès aux soins", "SAMU", "centre 15", "urgences", "médecin", "docteur", "santé", "ARS", "ACI",
    "coordination", "coordinateur", "coordinatrice", "agenda", "créneau", "majoration",
)
# Shorter words than this are left out of the context: they would match inside unrelated words.
_MIN_CONTEXT_WORD = 3


def hash_password(password: str) -> str:
    """What is stored of a password: Werkzeug's scrypt hash."""
    return generate_password_hash(password, method="scrypt")


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
    context = context_words()
    if _mostly_words_of(password, context):
        return _SERVICE_WORDS_PROBLEM
    email_parts = _email_parts(email)
    verdict = zxcvbn(password[:_SCORED_PREFIX], user_inputs=email_parts + sorted(context))
    dictionaries = {match.get("dictionary_name") for match in verdict["sequence"]}
    if verdict["score"] >= MIN_SCORE and not _listed_word_with_affixes(password):
        return None
    if dictionaries & _PASSWORD_LISTS or _listed_word_with_affixes(password):
        return ("common or leaked password", "Il figure, à peu de chose près, dans les listes de mots de passe "
                "courants ou divulgués : choisissez-en un autre.")
    inputs_matched = {match.get("matched_word") for match in verdict["sequence"]
                      if match.get("dictionary_name") == "user_inputs"}
    if inputs_matched - set(email_parts):
        return _SERVICE_WORDS_PROBLEM
    if inputs_matched:
        return "close to the email", "Il ne doit pas reprendre l'adresse e-mail."
    return ("too easy to guess", "Il est trop facile à deviner (répétitions, suites, mots ou dates courants) : "
            "allongez-le, par exemple avec plusieurs mots sans rapport entre eux.")


_SERVICE_WORDS_PROBLEM = (
    "built from service or territory words",
    "Il est fait de mots du service ou du territoire (SNP, 116 117, régulation, CPTS, noms des CPTS et des "
    "communes) : un attaquant les essaie en premier. Choisissez plusieurs mots sans rapport avec le service.")


def context_words() -> set[str]:
    """The service's words and the deployment's names (CPTS, regulation areas, communes), each whole and word by
    word, folded
    (lower case, no accents, letters and digits only)."""
    names = [*SERVICE_WORDS, *db.session.scalars(select(Cpts.name)),
             *filter(None, db.session.scalars(select(Cpts.regulation_area).distinct())),
             *db.session.scalars(select(Commune.name).distinct())]
    words = set()
    for name in names:
        folded_words = [_fold(word) for word in re.split(r"[\W_]+", name)]
        words.update(word for word in folded_words if len(word) >= _MIN_CONTEXT_WORD)
        words.add(_fold(name))
    return {word for word in words if len(word) >= _MIN_CONTEXT_WORD}


def _fold(text: str) -> str:
    """Lower case, accents dropped, letters and digits only: ``Vendée-Océan`` and ``vendeeocean`` are one."""
    return _NOT_FOLDED.sub("", unicodedata.normalize("NFKD", text.casefold()))


def _mostly_words_of(password: str, words: set[str]) -> bool:
    """Whether ``password`` is these words with fewer than ``_MIN_OWN_CHARACTERS`` other letters or digits."""
    folded = _fold(password)
    rest = folded
    for word in sorted(words, key=len, reverse=True):
        if word in rest:
            rest = rest.replace(word, "")
    return rest != folded and len(rest) < _MIN_OWN_CHARACTERS


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


_NOT_FOLDED = re.compile("[^0-9a-z]+")
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
