"""Regulator accounts created and updated by the SAS platform (INT_R02, FrPractitionerRegul).

``POST /Practitioner`` and ``PUT /Practitioner?identifier=<system>|<value>`` both land in ``upsert``: the
account is found by the condition's identifier, else by the resource's own identifiers, and updated; when
none is known it is created (the guide: an update of an unknown identifier behaves as a creation), so the
platform may replay a PUT safely. A POST creates only (ANS test kit v0.3.0): an identifier an active account
holds is a 409 ``duplicate``; one held by deactivated accounts only moves to the new account. The account is a ``regulator`` of every CPTS of the regulation area
``SAS_REGULATION_AREA``; ``active: false`` deactivates it (the guide's removal of the habilitation).

An account keeps every identifier it has been known by: the platform first sends its technical id
(``urn:oid:1.2.250.1.213.3.6``), then, by a PUT on that id, the national one; later calls may use either.
Its password is random and known to nobody, and no e-mail is sent (the guide: no confirmation step; the
service has no e-mail backend). The regulator gets a password through a one-time set-up link that an admin,
or a coordinator of every CPTS of the area (``policy.check_account_management``), issues and hands over
(``setup_links.issue_setup_link``, ``/password-setup/<secret>``).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..accounts import passwords, users
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid
from ..core.extensions import db
from ..models import Cpts, Role, SasRegulatorIdentifier, User
from .codes import PROFILES, SAS_TECHNICAL_SYSTEM, V2_0203
from .outcome import FhirInvalid

ACTOR = "sas:platform"
# The most items read from each list of the resource (FrPractitionerRegul has one name, an e-mail and a
# couple of identifiers): a longer list is refused before any item is read.
MAX_LIST_ITEMS = {"identifier": 10, "name": 5, "telecom": 10}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Identifier:
    system: str
    value: str
    type_code: str


@dataclass(frozen=True)
class RegulatorAccount:
    identifiers: tuple[Identifier, ...]
    active: bool
    email: str
    family: str
    given: str


def parse(resource) -> RegulatorAccount:
    """The account a FrPractitionerRegul describes; FhirInvalid (400) if it is not one, Invalid (422) if the
    profile's rules or ours are broken."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Practitioner":
        raise FhirInvalid("Le corps doit être une ressource Practitioner (FrPractitionerRegul) en JSON",
                          fields={"resourceType": ["Practitioner expected"]})
    problems: dict[str, list[str]] = {}
    for key, most in MAX_LIST_ITEMS.items():
        if isinstance(resource.get(key), list) and len(resource[key]) > most:
            raise Invalid(f"Ressource FrPractitionerRegul invalide : Practitioner.{key}", code="invalid_regulator",
                          fields={f"Practitioner.{key}": [f"at most {most} items"]})
    identifiers = tuple(_identifiers(resource.get("identifier"), problems))
    active = resource.get("active")
    if not isinstance(active, bool):
        problems["Practitioner.active"] = ["required boolean (1..1)"]
    family, given = _name(resource.get("name"), problems)
    email = _email(resource.get("telecom"), problems)
    meta = resource.get("meta", {})
    source = meta.get("source") if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        problems["Practitioner.meta"] = ["an object"]
    elif source is not None and source != SAS_TECHNICAL_SYSTEM:
        problems["Practitioner.meta.source"] = [f"must be {SAS_TECHNICAL_SYSTEM}"]
    if problems:
        raise Invalid("Ressource FrPractitionerRegul invalide : " + ", ".join(sorted(problems)),
                      code="invalid_regulator", fields=problems)
    return RegulatorAccount(identifiers, active, email, family, given)


def _text(value, limit: int) -> str | None:
    """A usable string: not empty, within the column's length, no NUL byte or lone surrogate (a database
    error otherwise, or text nobody can read back)."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        return None
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        return None
    return value.strip()


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _identifiers(items, problems: dict) -> list[Identifier]:
    if not _list(items):
        problems["Practitioner.identifier"] = ["at least one (1..*)"]
        return []
    found = []
    for n, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        kind = item.get("type") if isinstance(item.get("type"), dict) else {}
        code = next((c.get("code") for c in _list(kind.get("coding"))
                     if isinstance(c, dict) and c.get("system") == V2_0203), None)
        system, value, code = _text(item.get("system"), 200), _text(item.get("value"), 100), _text(code, 10)
        if not (system and value and code):
            problems[f"Practitioner.identifier[{n}]"] = ["type (fr-v2-0203), system (200) and value (100) are required"]
            continue
        found.append(Identifier(system, value, code))
    return found


def _name(names, problems: dict) -> tuple[str, str]:
    name = _list(names)[0] if _list(names) and isinstance(names[0], dict) else {}
    family, given = _text(name.get("family"), 100), _list(name.get("given"))
    given = _text(given[0], 100) if given else None
    if not (family and given):
        problems["Practitioner.name"] = ["family and given are required"]
        return "", ""
    return family, given


def _email(telecoms, problems: dict) -> str:
    emails = [t.get("value") for t in _list(telecoms) if isinstance(t, dict) and t.get("system") == "email"]
    email = users.normalise_email(_text(emails[0], 254) or "") if emails else ""
    if not _EMAIL.match(email) or users.email_problem(email):
        problems["Practitioner.telecom"] = ["an e-mail address is required: it is the account's sign-in"]
    return email


def condition(query: str | None) -> Identifier | None:
    """``?identifier=<system>|<value>`` of a conditional update."""
    if not query:
        raise FhirInvalid("La mise à jour conditionnelle demande ?identifier=<système>|<valeur>",
                          fields={"identifier": ["required"]})
    system, bar, value = query.partition("|")
    if not bar or not system or not value.strip():
        raise FhirInvalid("identifier attendu sous la forme <système>|<valeur>", fields={"identifier": ["system|value"]})
    return Identifier(system, value.strip(), "")


def upsert(account: RegulatorAccount, known_as: Identifier | None = None, create: bool = False) -> tuple[User, bool]:
    """Create or update the account; returns it and whether it was created.

    ``create`` (a POST, test kit v0.3.0): an identifier an active account already holds is a 409 ``duplicate``;
    identifiers held only by deactivated accounts move to the new account (an RPPS whose former account was
    deactivated gets a new one)."""
    with write_transaction():
        area = _area_cpts()
        former: list[User] = []
        if create:
            former = _holders(list(account.identifiers))
            if any(holder.active for holder in former):
                raise Conflict("Un compte régulateur actif porte déjà cet identifiant : mettez-le à jour (PUT)",
                               code="duplicate", fields={"Practitioner.identifier": ["already known"]})
            user = None  # the deactivated accounts keep their history; their identifiers move below
        else:
            user = _find(account, known_as)
        created = user is None
        taken = users.email_holder(account.email, other_than=user)
        if taken is not None and taken in former:
            # The same person's deactivated account held this address: it gives it up to the new one.
            audit.record(ACTOR, "sas.regulator.email_released", taken, after={"replaced_by_new_account": True})
            taken.email = f"regulator-{taken.id}-replaced-{secrets.token_hex(4)}@invalid.invalid"
            db.session.flush()
            taken = None
        if taken is not None:
            raise Invalid("Cette adresse e-mail est déjà celle d'un autre compte, ou lui ressemble à s'y méprendre",
                          code="email_taken", fields={"Practitioner.telecom": ["already used by another account"]})
        if created:
            user = User(email=account.email, password_hash=passwords.hash_password(secrets.token_urlsafe(32)),
                        role=Role.REGULATOR, active=account.active, cpts=area)
            db.session.add(user)
            db.session.flush()
        before = None if created else {"active": user.active, "cpts_ids": user.cpts_ids}
        user.email, user.cpts = account.email, area
        if user.active and not account.active:
            # Same effect as a coordinator's deactivation: the page sessions and API tokens die with the habilitation.
            users.end_sessions_and_tokens(user.id)
        user.active = account.active
        _keep_identifiers(user, account.identifiers + ((known_as,) if known_as else ()))
        audit.record(ACTOR, "sas.regulator.create" if created else "sas.regulator.update", user, before=before,
                     after={"active": user.active, "cpts_ids": [c.id for c in area],
                            "identifiers": [f"{i.system}|{i.value}" for i in account.identifiers]})
    return user, created


def _area_cpts() -> list[Cpts]:
    area = current_app.config.get("SAS_REGULATION_AREA")
    cpts = list(db.session.scalars(select(Cpts).where(Cpts.regulation_area == area).order_by(Cpts.id))) if area else []
    if not cpts:
        raise Invalid("Aucune CPTS dans la zone de régulation des régulateurs SAS (SAS_REGULATION_AREA)",
                      code="sas_regulation_area_missing")
    return cpts


def _holders(identifiers: list[Identifier]) -> list[User]:
    """The accounts holding any of ``identifiers``, in their order."""
    users = []
    for identifier in identifiers:
        user = db.session.scalar(select(User).join(SasRegulatorIdentifier, SasRegulatorIdentifier.user_id == User.id)
                                 .where(SasRegulatorIdentifier.system == identifier.system,
                                        SasRegulatorIdentifier.value == identifier.value))
        if user is not None and user not in users:
            users.append(user)
    return users


def _find(account: RegulatorAccount, known_as: Identifier | None) -> User | None:
    users = _holders(([known_as] if known_as else []) + list(account.identifiers))
    if len(users) > 1:
        raise Invalid("Ces identifiants désignent deux comptes différents", code="identifier_conflict",
                      fields={"Practitioner.identifier": ["identifiers of two different accounts"]})
    return users[0] if users else None


def _keep_identifiers(user: User, identifiers) -> None:
    for identifier in identifiers:
        row = db.session.scalar(select(SasRegulatorIdentifier).where(
            SasRegulatorIdentifier.system == identifier.system, SasRegulatorIdentifier.value == identifier.value))
        if row is not None and row.user_id != user.id:
            # Held by a deactivated account (``upsert`` refused an active one): it moves to this account.
            audit.record(ACTOR, "sas.regulator.identifier_move", row,
                         before={"user_id": row.user_id}, after={"user_id": user.id})
            row.user_id = user.id
        if row is None:
            db.session.add(SasRegulatorIdentifier(user_id=user.id, system=identifier.system, value=identifier.value,
                                                  type_code=identifier.type_code or _type_of(identifier.system)))
        elif identifier.type_code:
            row.type_code = identifier.type_code


def _type_of(system: str) -> str:
    return "INTRN" if system == SAS_TECHNICAL_SYSTEM else "IDNPS"


def as_resource(user: User, resource: dict) -> dict:
    """The accepted resource as stored: the platform's content under our id."""
    meta = {"profile": [PROFILES["regulator"]]}
    source = (resource.get("meta") or {}).get("source")  # parse() made sure meta is an object
    if source:
        meta["source"] = source
    return {**{k: v for k, v in resource.items() if k != "text"}, "id": str(user.id), "meta": meta}
