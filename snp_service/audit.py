"""Record every state change: who, when, what (ids and statuses only, never patient data)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from .core.extensions import db
from .core.fast_paths import execute_core
from .core.timeutil import utcnow
from .models import AuditEvent, User

Actor = User | str | None


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return f"user:{actor.id}"
    return actor or "system"


def record(actor: Actor, action: str, obj: Any, before: dict | None = None, after: dict | None = None) -> None:
    """Write an audit event in the current transaction (it commits or rolls back with the change).

    ``obj`` is a model instance, or a table name for an event about many rows. One plain
    INSERT: every state change writes one, and the unit of work's bookkeeping would cost more.
    """
    if not isinstance(obj, str) and obj.id is None:
        db.session.flush()  # a new object gets its id, so the event names it
    execute_core(_INSERT, {
        "at": utcnow(),
        "actor_id": actor.id if isinstance(actor, User) else None,
        "actor_label": actor_label(actor),
        "action": action,
        "object_type": obj if isinstance(obj, str) else obj.__tablename__,
        "object_id": None if isinstance(obj, str) else obj.id,
        "before": before,
        "after": after,
    })


_INSERT = insert(AuditEvent.__table__)
