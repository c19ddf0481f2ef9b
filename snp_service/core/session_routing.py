"""The session's one switch of database: a request may be bound to another engine than the application's.

``RoutingSession.get_bind`` answers the engine named in ``flask.g`` (``bind_request_to``) when there is one,
else the application's own. It knows nothing of why a request is bound elsewhere: the practice space
(``practice/space.py``) binds a trainee's requests to their own practice database, so that every page and
API call of the real service runs unchanged on practice data.
"""
from __future__ import annotations

from flask import g, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession

_G_KEY = "snp_bound_engine"


class RoutingSession(FlaskSession):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            engine = g.get(_G_KEY)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def bind_request_to(engine) -> None:
    """Every statement of the session, until ``unbind``, goes to ``engine``."""
    setattr(g, _G_KEY, engine)


def unbind() -> None:
    g.pop(_G_KEY, None)


def bound_engine():
    """The engine the current context is bound to, or None (the application's own)."""
    return g.get(_G_KEY) if has_app_context() else None
