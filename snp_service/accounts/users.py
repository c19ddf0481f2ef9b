"""Accounts: who they are (an e-mail, a role, the CPTS they were given, a GP's practitioner), created,
(de)activated and given a new password.

An address is stored, compared and looked up in one form (``normalise_email``), and no two accounts have
addresses that look alike (``email_holder``: the same UTS #39 skeleton). Deactivating an account or
changing its password ends its page sessions and revokes its API tokens (``end_sessions_and_tokens``).
Who may create or manage an account is ``policy``'s rule.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy
from ..core import hygiene
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import ApiToken, Cpts, Practitioner, Role, User
from ..models.accounts import email_skeleton
from . import page_sessions, passwords


def normalise_email(email: str) -> str:
    """The one form an address is stored, compared and looked up in: NFKC, case-folded (Unicode's
    NFKC_Casefold, less the removal of default ignorables, which an address may not hold at all).
    ``Jean.Dupont@X.fr`` and full-width ``ｊｅａｎ.ｄｕｐｏｎｔ@ｘ.ｆｒ`` are ``jean.dupont@x.fr``."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def email_problem(email: str) -> str | None:
    """Why the (normalised) ``email`` cannot be an account's address, or None."""
    if "@" not in email or len(email) > 254:
        return "invalid email"
    if hygiene.hidden_in_email(email):
        return "invalid email: holds a space, a control or a bidirectional character"
    return None


def email_holder(email: str, other_than: User | None = None) -> User | None:
    """The account, other than ``other_than``, whose address is the (normalised) ``email`` or looks like it:
    the same UTS #39 skeleton (``pаul@x.fr`` with a Cyrillic "а" for ``paul@x.fr``)."""
    query = select(User).where(or_(User.email == email, User.email_skeleton == email_skeleton(email)))
    if other_than is not None and other_than.id is not None:
        query = query.where(User.id != other_than.id)
    return db.session.scalar(query.order_by(User.email != email).limit(1))


def email_conflict(holder: User, email: str) -> Conflict:
    if holder.email == email:
        return Conflict("Un compte existe déjà avec cet e-mail", code="email_taken", fields={"email": ["already used"]})
    # Which account it imitates is not said: it may belong to another CPTS.
    return Conflict("Cette adresse ressemble à s'y méprendre à celle d'un compte existant (caractères d'un autre "
                    "alphabet ou d'apparence identique) : choisissez-en une autre.", code="email_confusable",
                    fields={"email": ["looks like the address of an existing account"]})


def create_user(actor, *, email: str, password: str, role: str, cpts_ids: list[int] = (),
                practitioner_id: int | None = None) -> User:
    """Create an account, if ``actor`` may (``policy.check_account_creation``).

    Its scope is exactly ``cpts_ids``. Only a GP account is linked to a practitioner, and only to a
    member of each of those CPTS: a link never widens an account's scope.
    """
    policy.check_account_creation(actor, role, cpts_ids, practitioner_id)
    email = normalise_email(email)
    _check_new_user(email, password, role, practitioner_id)
    with write_transaction():
        holder = email_holder(email)
        if holder is not None:
            raise email_conflict(holder, email)
        cpts = _load_cpts(cpts_ids)
        if practitioner_id is not None:
            _check_practitioner_of(db.session.get(Practitioner, practitioner_id), cpts)
        user = User(email=email, password_hash=passwords.hash_password(password), role=role,
                    practitioner_id=practitioner_id, cpts=cpts)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # created meanwhile by a concurrent request (the database holds both rules)
            raise Conflict("Un compte existe déjà avec cet e-mail, ou une adresse qui lui ressemble",
                           code="email_taken", fields={"email": ["already used"]}) from None
        audit.record(actor, "user.create", user, after={"role": role, "cpts_ids": list(cpts_ids),
                                                        "practitioner_id": practitioner_id})
    return user


def _check_practitioner_of(practitioner: Practitioner | None, cpts: list[Cpts]) -> None:
    if practitioner is None:
        raise Invalid("Praticien inconnu", fields={"practitioner_id": ["unknown practitioner"]})
    outside = [c.name for c in cpts if c.id not in set(practitioner.cpts_ids)]
    if outside:
        raise Invalid(f"Ce praticien n'est pas membre de : {', '.join(outside)}", code="practitioner_not_member",
                      fields={"practitioner_id": ["not a member of every CPTS of the account"]})


def set_user_active(actor, user_id: int, active: bool) -> User:
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        before = {"active": user.active}
        user.active = active
        if not active:
            end_sessions_and_tokens(user.id)
        audit.record(actor, "user.activate" if active else "user.deactivate", user, before, {"active": active})
    return user


def change_password(actor, user_id: int, new_password: str) -> User:
    """Set a new password (policy checked); every page session and API token of the account ends."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("Compte introuvable")
        policy.check_account_management(actor, user)
        passwords.check_new_password(new_password, user.email)
        user.password_hash = passwords.hash_password(new_password)
        end_sessions_and_tokens(user.id)
        audit.record(actor, "user.password_change", user)
    return user


def end_sessions_and_tokens(user_id: int) -> None:
    """End every page session and revoke every API token of the account, inside the caller's transaction."""
    page_sessions.end_sessions_of(user_id)
    db.session.query(ApiToken).filter_by(user_id=user_id, revoked_at=None).update({"revoked_at": utcnow()})


def _check_new_user(email: str, password: str, role: str, practitioner_id: int | None) -> None:
    errors = {}
    message = "Compte invalide"
    if email_problem(email):
        errors["email"] = [email_problem(email)]
    password_problem = passwords.password_problem(password, email)
    if password_problem:
        errors["password"] = [password_problem[0]]
        message = f"Compte invalide : mot de passe refusé. {password_problem[1]}"
    if role not in Role.values():
        errors["role"] = [f"one of {', '.join(Role)}"]
    if role == Role.GP and practitioner_id is None:
        errors["practitioner_id"] = ["required for a gp account"]
    if role != Role.GP and practitioner_id is not None:
        errors["practitioner_id"] = ["only a gp account is linked to a practitioner"]
        message = "Compte invalide : seul un compte médecin est rattaché à un praticien."
    if errors:
        raise Invalid(message, fields=errors)


def _load_cpts(cpts_ids) -> list[Cpts]:
    cpts = [db.session.get(Cpts, cpts_id) for cpts_id in cpts_ids]
    if any(c is None for c in cpts):
        raise Invalid("CPTS inconnue", fields={"cpts_ids": ["unknown CPTS"]})
    return cpts
