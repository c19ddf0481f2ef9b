"""Who may do what: every role and scope check lives here, not in views.

Scopes: an admin sees everything; a coordinator, a regulator or a GP sees the
CPTS of their account (a GP also through their practitioner's memberships);
a regulator may *book* across every CPTS of their regulation area.
"""
from __future__ import annotations

from functools import wraps

from flask import g
from flask_login import current_user as session_user
from sqlalchemy import select

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
        return wrapper
    return decorator


def member_cpts_ids(user: User) -> set[int]:
    ids = set(user.cpts_ids)
    if user.practitioner is not None:
        ids |= set(user.practitioner.cpts_ids)
    return ids


def visible_cpts_ids(user: User) -> set[int] | None:
    """CPTS whose data the user may read; ``None`` means all (admin)."""
    if user.role == "admin":
        return None
    if user.role == "regulator":
        return regulation_area_cpts_ids(user)
    return member_cpts_ids(user)


def regulation_area_cpts_ids(user: User) -> set[int]:
    own = member_cpts_ids(user)
    areas = {c.regulation_area for c in db.session.scalars(select(Cpts).where(Cpts.id.in_(own))) if c.regulation_area}
    if not areas:
        return own
    shared = db.session.scalars(select(Cpts.id).where(Cpts.regulation_area.in_(areas)))
    return own | set(shared)


def check_cpts(user: User, cpts_id: int, *, manage: bool = False) -> None:
    """Raise unless ``user`` may read (or, with ``manage``, administer) CPTS ``cpts_id``."""
    if user.role == "admin":
        return
    allowed = member_cpts_ids(user) if manage else visible_cpts_ids(user)
    if cpts_id not in allowed:
        raise Forbidden("Cette CPTS n'est pas dans votre périmètre", code="out_of_scope")
    if manage and user.role != "coordinator":
        raise Forbidden("Réservé aux coordinateurs", code="forbidden_role")


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
