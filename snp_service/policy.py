"""Who may do what: every role and scope check lives here, not in views.

Scopes: an admin sees everything; a coordinator, a regulator or a GP sees the
CPTS of their account (a GP also through their practitioner's memberships);
a regulator may *book* across every CPTS of their regulation area.
"""
from __future__ import annotations

from functools import cache, wraps

from flask import g, has_request_context, request
from flask_login import current_user as session_user
from sqlalchemy import bindparam, select

from .errors import Forbidden, NotFound, Unauthorized
from .extensions import db
from .models import Cpts, Practitioner, User, practitioner_cpts


def current_user() -> User | None:
    """The caller: from the API's bearer token, else from the page session."""
    user = g.get("api_user")
    if user is not None:
        return user
    if session_user and session_user.is_authenticated:
        return session_user._get_current_object()
    return None


def require_roles(*roles: str):
    """Decorator: the caller must be signed in with one of ``roles``; passes ``user`` to the view."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                raise Unauthorized("Authentification requise", code="authentication_required")
            if user.role not in roles:
                raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
            return view(*args, user=user, **kwargs)
        wrapper.snp_roles = roles  # read by the OpenAPI document (401/403) and the authorisation matrix
        return wrapper
    return decorator


def _per_request(kind: str, user: User, compute):
    """``compute()``, remembered for the rest of the current request (scope checks run several times a request).

    Outside a request (jobs, CLI, services called directly) nothing is remembered.
    """
    if not has_request_context():
        return compute()
    current = request._get_current_object()
    cache = g.get("_snp_scope_cache")
    if cache is None or cache[0] is not current:  # g may outlive one request (an app context held around several)
        cache = (current, {})
        g._snp_scope_cache = cache
    key = (kind, user.id)
    if key not in cache[1]:
        cache[1][key] = compute()
    value = cache[1][key]
    return None if value is None else set(value)  # a copy: callers may change theirs


def _member_cpts(user: User) -> list[Cpts]:
    cpts = list(user.cpts)
    if user.practitioner is not None:
        cpts += user.practitioner.cpts
    return cpts


def member_cpts_ids(user: User) -> set[int]:
    return _per_request("member", user, lambda: {c.id for c in _member_cpts(user)})


def visible_cpts_ids(user: User) -> set[int] | None:
    """CPTS whose data the user may read; ``None`` means all (admin)."""
    if user.role == "admin":
        return None
    if user.role == "regulator":
        return regulation_area_cpts_ids(user)
    return member_cpts_ids(user)


def practitioner_lookup_scope(user: User) -> set[int] | None:
    """CPTS whose practitioners the treating-doctor look-up may suggest; ``None`` means all (admin).

    A regulator finds a caller's doctor anywhere in the regulation area, a coordinator in their
    own CPTS; a GP never browses the directory.
    """
    if user.role not in ("regulator", "coordinator", "admin"):
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    return visible_cpts_ids(user)


def regulation_area_cpts_ids(user: User) -> set[int]:
    return _per_request("area", user, lambda: _regulation_area_cpts_ids(user))


def remember_scope(user: User, member: set[int], sharing_an_area: set[int]) -> None:
    """Keep for this request the user's CPTS ids and those sharing a regulation area, loaded with the user."""
    _per_request("member", user, lambda: member)
    _per_request("area", user, lambda: member | sharing_an_area)


def _regulation_area_cpts_ids(user: User) -> set[int]:
    own_cpts = _member_cpts(user)
    own = {c.id for c in own_cpts}
    areas = {c.regulation_area for c in own_cpts if c.regulation_area}
    if not areas:
        return own
    shared = db.session.scalars(_area_cpts_statement(), {"areas": sorted(areas)})
    return own | set(shared)


@cache
def _area_cpts_statement():
    return select(Cpts.id).where(Cpts.regulation_area.in_(bindparam("areas", expanding=True)))


def check_cpts(user: User, cpts_id: int, *, manage: bool = False) -> None:
    """Raise unless ``user`` may read (or, with ``manage``, administer) CPTS ``cpts_id``."""
    if user.role == "admin":
        return
    allowed = member_cpts_ids(user) if manage else visible_cpts_ids(user)
    if cpts_id not in allowed:
        raise Forbidden("Cette CPTS n'est pas dans votre périmètre", code="out_of_scope")
    if manage and user.role != "coordinator":
        raise Forbidden("Réservé aux coordinateurs", code="forbidden_role")


def check_scope_change(actor: User | str, cpts: Cpts | None, data: dict) -> None:
    """Raise unless ``actor`` may create CPTS ``cpts`` (None: a new one) or set what ``data`` changes of its scope.

    The regulation area decides which regulators read and book whose patients: a coordinator who
    could set it would widen their own regulators' reach to other CPTS' patients (SPEC section 8).
    Only an admin creates a CPTS or sets its area; the CLI and jobs (a label, not a user) are operators.
    """
    if not isinstance(actor, User) or actor.role == "admin":
        return
    if cpts is None:
        raise Forbidden("Seul un administrateur crée une CPTS", code="forbidden_role")
    if "regulation_area" in data:
        raise Forbidden("Seul un administrateur change la zone de régulation d'une CPTS", code="scope_admin_only",
                        fields={"regulation_area": ["only an admin may set it"]})


def listing_scope(user: User, cpts_id: int | None = None) -> set[int] | None:
    """The CPTS a listing shows: ``cpts_id`` when given (403 unless the user reads it), else all the user reads.

    ``None`` means every CPTS (an admin without a ``cpts_id``).
    """
    scope = visible_cpts_ids(user)
    if cpts_id is None:
        return scope
    if scope is not None and cpts_id not in scope:
        raise Forbidden("Cette CPTS n'est pas dans votre périmètre", code="out_of_scope")
    return {cpts_id}


def supplement_lines_for(user: User) -> int | None:
    """Whose lines of a supplement statement the user reads: a GP only their own (a practitioner id), others all.

    A GP account without a practitioner reads none (never every line); regulators read no statement.
    The caller has already checked the CPTS (``check_cpts``).
    """
    if user.role == "gp":
        if user.practitioner_id is None:
            raise Forbidden("Compte médecin sans praticien rattaché", code="no_practitioner")
        return user.practitioner_id
    if user.role in ("coordinator", "admin"):
        return None
    raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")


def check_account_creation(actor: User | str, role: str, cpts_ids, practitioner_id: int | None) -> None:
    """Raise unless ``actor`` may create an account with ``role`` in ``cpts_ids`` (linked to ``practitioner_id``).

    An admin creates any account; a coordinator only non-admin accounts of their own CPTS, linked
    to a practitioner they manage. The CLI (a label, not a user) is an operator.
    """
    if not isinstance(actor, User) or actor.role == "admin":
        return
    if actor.role != "coordinator":
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    if role == "admin" or not cpts_ids:
        raise Forbidden("Un coordinateur crée des comptes de sa CPTS, hors administrateurs", code="forbidden_role")
    for cpts_id in cpts_ids:
        check_cpts(actor, cpts_id, manage=True)
    if practitioner_id is not None:
        get_practitioner(actor, practitioner_id)


def check_account_management(actor: User | str, account: User) -> None:
    """Raise unless ``actor`` may (de)activate ``account``: an admin any other; a coordinator the
    non-admin accounts of their CPTS, never their own (404 for the rest: no account is revealed)."""
    if not isinstance(actor, User):
        return
    if account.id == actor.id:
        raise Forbidden("Vous ne pouvez pas changer l'état de votre propre compte", code="own_account")
    if actor.role == "admin":
        return
    if actor.role != "coordinator":
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    if account.role == "admin" or not {c.id for c in _member_cpts(account)} & member_cpts_ids(actor):
        raise NotFound("Compte introuvable")


def practitioner_in_scope(user: User, practitioner_id: int) -> bool:
    if user.role == "admin":
        return True
    if user.role == "gp":
        return user.practitioner_id == practitioner_id
    scope = visible_cpts_ids(user)
    row = db.session.execute(
        select(practitioner_cpts.c.cpts_id).where(
            practitioner_cpts.c.practitioner_id == practitioner_id, practitioner_cpts.c.cpts_id.in_(scope)
        ).limit(1)
    ).first()
    return row is not None


def get_practitioner(user: User, practitioner_id: int, *, manage: bool = False) -> Practitioner:
    """The practitioner if the user may act on them (a GP: only themselves); 404 otherwise."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner_in_scope(user, practitioner_id):
        raise NotFound("Praticien introuvable")
    if manage and user.role == "regulator":
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    return practitioner
