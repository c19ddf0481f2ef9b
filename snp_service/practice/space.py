"""A practice database per trainee, and the one hook that binds a practice session's requests to it.

Built on entry (and on each scenario, and on "Réinitialiser") under ``PRACTICE_DIR`` (default
``<instance>/practice``) as ``<user id>.sqlite``: the schema (``metadata.create_all``), the trainee's area copied
from the real database (its CPTS, communes, practitioners and memberships, the trainee's own account row with
the same id, without its password), and practice slots over today and the next two days shaped like a real
agenda (blocks of quarter-hours, some already booked by fictional patients).

While the page session holds ``practice`` (``enter``), ``bind_practice_request`` binds every request of that
session, pages and the console's API calls alike, to that database (``core.session_routing``): the real code
runs on it unchanged. The SMS and SAS senders run in their own context on the real database, so nothing queued in
practice ever leaves. The account itself is loaded from the real database first (its page session lives there).
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import threading
from datetime import datetime, time, timedelta, timezone

from flask import Flask, current_app, g, request, session as cookie_session
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from ..core.database import wire_sqlite_engine
from ..core.extensions import db
from ..core.session_routing import bind_request_to, bound_engine, unbind
from ..core.timeutil import PARIS, paris_today, utcnow
from ..models import (Booking, Commune, Cpts, PageSession, Patient, Practitioner, Slot, User, practitioner_cpts,
                      user_cpts)

SESSION_KEY = "practice"
# The fictional colleague who takes the trainee's slot in the race scenario.
OTHER_REGULATOR_ID = 2_000_000_000
# Practitioners given practice slots (the area may hold hundreds; the agenda stays readable).
MAX_AGENDA_PRACTITIONERS = 24
SLOT_MINUTES = 15
_ENGINES = "snp_practice_engines"
_LOCK = threading.Lock()
# Requests never bound: signing out ends the real page session; static files use no database.
_UNBOUND_ENDPOINTS = frozenset({"pages.logout", "pages.login", "static", "pages.static"})

FICTIONAL_PATIENTS = (
    ("Martin", "Louise"), ("Bernard", "Hugo"), ("Dubois", "Chloé"), ("Thomas", "Lucas"), ("Robert", "Emma"),
    ("Richard", "Nathan"), ("Petit", "Jade"), ("Durand", "Gabriel"), ("Leroy", "Manon"), ("Moreau", "Raphaël"),
    ("Simon", "Alice"), ("Laurent", "Arthur"), ("Lefebvre", "Lina"), ("Michel", "Louis"), ("Garcia", "Rose"),
)


# --- where and how ------------------------------------------------------------------------------------------


def practice_dir(app: Flask) -> str:
    return app.config.get("PRACTICE_DIR") or os.path.join(app.instance_path, "practice")


def _path(app: Flask, user_id: int) -> str:
    return os.path.join(practice_dir(app), f"{int(user_id)}.sqlite")


def engine_for(app: Flask, user_id: int):
    """The trainee's practice engine, or None when no practice database exists.

    One engine per trainee and process, kept while the file is the same one: a rebuild in another worker process
    replaces the file (a new inode), and this process's engine, which would read the deleted file, is replaced too.
    """
    try:
        inode = os.stat(_path(app, user_id)).st_ino
    except FileNotFoundError:
        return None
    engines = app.extensions.setdefault(_ENGINES, {})
    with _LOCK:
        engine, known = engines.get(user_id, (None, None))
        if engine is None or known != inode:
            if engine is not None:
                engine.dispose()
            engine = _new_engine(app, user_id)
            engines[user_id] = (engine, inode)
    return engine


def _new_engine(app: Flask, user_id: int):
    engine = create_engine(f"sqlite:///{_path(app, user_id)}", hide_parameters=True,
                           connect_args={"timeout": 10, "check_same_thread": False})
    wire_sqlite_engine(engine)
    return engine


def _drop(app: Flask, user_id: int) -> int:
    """Remove the trainee's practice database (and this process's engine of it); returns the bytes freed."""
    engine, _inode = app.extensions.setdefault(_ENGINES, {}).pop(user_id, (None, None))
    if engine is not None:
        engine.dispose()
    freed = 0
    for suffix in _SUFFIXES:
        with contextlib.suppress(FileNotFoundError):  # a -wal or -journal file exists only at times
            freed += os.stat(_path(app, user_id) + suffix).st_size
            os.remove(_path(app, user_id) + suffix)
    return freed


# --- clean-up (the purge_practice_files job) -------------------------------------------------------------------

_SUFFIXES = ("", "-wal", "-shm", "-journal")
_TRAINEE_FILE = re.compile(r"^(\d+)\.sqlite(-wal|-shm|-journal)?$")
_SCHEMA_FILE = re.compile(r"^\.schema-(\d+)\.sqlite$")


def remove_unused(app: Flask, keep: timedelta, now: datetime | None = None) -> dict:
    """Remove the practice databases unused for longer than ``keep``; returns counts for the job's record.

    A trainee's database is unused when its files were last written before ``now - keep`` and no page session of
    its owner asked for a page since then: the practice state rides in the session's cookie, out of the server's
    sight, so a session active within ``keep`` keeps its owner's file whatever its age (reads do not touch it).
    The per-process empty schemas (``.schema-<pid>``) of processes gone go too.
    """
    now = now or utcnow()
    cutoff = now - keep
    directory = practice_dir(app)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        names = []
    written: dict[int, float] = {}
    for name in names:
        match = _TRAINEE_FILE.match(name)
        if match:
            written[int(match.group(1))] = max(written.get(int(match.group(1)), 0.0), _mtime(directory, name))
    stale = {user_id for user_id, mtime in written.items() if mtime < cutoff.timestamp()}
    in_use = set(db.session.scalars(select(PageSession.user_id).where(
        PageSession.user_id.in_(sorted(stale)), PageSession.last_seen_at >= cutoff))) if stale else set()
    removed = freed = 0
    for user_id in sorted(stale - in_use):
        # Read again: a rebuild since the listing (the trainee came back) makes it recent.
        if max(_mtime(directory, f"{user_id}.sqlite{suffix}") for suffix in _SUFFIXES) < cutoff.timestamp():
            freed += _drop(app, user_id)
            removed += 1
    schemas = 0
    for name in names:
        match = _SCHEMA_FILE.match(name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))) \
                and _mtime(directory, name) < cutoff.timestamp():
            freed += os.stat(os.path.join(directory, name)).st_size
            os.remove(os.path.join(directory, name))
            schemas += 1
    return {"removed": removed, "kept_in_use": len(in_use), "schemas_removed": schemas, "bytes_freed": freed}


def _mtime(directory: str, name: str) -> float:
    try:
        return os.stat(os.path.join(directory, name)).st_mtime
    except FileNotFoundError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


# --- the binding: the one place ---------------------------------------------------------------------------------


def install(app: Flask) -> None:
    """Called by the app factory before the database plumbing's own hooks, so that they see the bound engine."""
    app.before_request(bind_practice_request)
    app.teardown_request(_unbind_practice_request)


def bind_practice_request() -> None:
    state = cookie_session.get(SESSION_KEY)
    if not state or request.endpoint in _UNBOUND_ENDPOINTS or (request.endpoint or "").endswith(".static"):
        return
    from ..policy import current_user, may_practise

    user = current_user()  # loaded and its page session resumed on the real database
    engine = engine_for(current_app, user.id) if user is not None and user.id == state.get("user") else None
    if engine is None or not may_practise(user):
        cookie_session.pop(SESSION_KEY, None)
        return
    db.session.commit()  # ends the real database's read transaction (reads only); the user object stays
    bind_request_to(engine)
    g.practice = state
    from .scenarios import before_practice_request

    before_practice_request(user, state)


def _unbind_practice_request(_error=None) -> None:
    if bound_engine() is not None:
        unbind()
        g.pop("practice", None)
        # An app context held around several requests (tests) must not keep practice rows in its identity map.
        db.session.remove()


def in_practice() -> bool:
    return bound_engine() is not None and g.get("practice") is not None


# --- building ---------------------------------------------------------------------------------------------------


def build(app: Flask, user: User, area_cpts_ids: set[int] | None, seed: int = 0) -> dict:
    """(Re)build the trainee's practice database from their real area; returns facts the scenarios use."""
    _drop(app, user.id)
    os.makedirs(practice_dir(app), exist_ok=True)
    shutil.copyfile(_empty_schema(app), _path(app, user.id))
    engine = _new_engine(app, user.id)
    with db.engine.connect() as real, Session(engine) as practice:
        practitioner_ids = _copy_area(real, practice, user, area_cpts_ids)
        facts = _agenda(practice, practitioner_ids, seed or user.id)
        practice.commit()
    engine.dispose()  # engine_for makes this process's engine of the new file
    return facts


def _empty_schema(app: Flask) -> str:
    """A practice database with the schema and no row, made once per process (``create_all`` costs more than the
    rest of a build) and copied for each build."""
    path = os.path.join(practice_dir(app), f".schema-{os.getpid()}.sqlite")
    with _LOCK:
        if not os.path.exists(path):
            building = f"{path}.{threading.get_ident()}"
            engine = create_engine(f"sqlite:///{building}")
            db.metadata.create_all(engine)
            engine.dispose()
            os.replace(building, path)
    return path


def _copy_area(real, practice: Session, user: User, area_cpts_ids: set[int] | None) -> list[int]:
    if area_cpts_ids is None:  # an admin: the area of the first CPTS
        first = real.execute(select(Cpts.id, Cpts.regulation_area).order_by(Cpts.id).limit(1)).first()
        area_cpts_ids = set()
        if first is not None:
            same_area = select(Cpts.id).where(Cpts.regulation_area == first.regulation_area)
            area_cpts_ids = {first.id} | (set(real.scalars(same_area)) if first.regulation_area else set())
    ids = sorted(area_cpts_ids)
    _copy(real, practice, Cpts.__table__, Cpts.id.in_(ids))
    _copy(real, practice, Commune.__table__, Commune.cpts_id.in_(ids))
    members = select(practitioner_cpts.c.practitioner_id).where(practitioner_cpts.c.cpts_id.in_(ids))
    _copy(real, practice, Practitioner.__table__, Practitioner.id.in_(members))
    _copy(real, practice, practitioner_cpts, practitioner_cpts.c.cpts_id.in_(ids))
    row = dict(real.execute(select(User.__table__).where(User.id == user.id)).mappings().one())
    row.update(password_hash="!practice", practitioner_id=None if row["role"] != "gp" else row["practitioner_id"])
    practice.execute(insert(User.__table__), [row])
    own = [cid for (cid,) in real.execute(select(user_cpts.c.cpts_id).where(user_cpts.c.user_id == user.id))]
    own = [cid for cid in own if cid in area_cpts_ids] or ids[:1]
    if own:
        practice.execute(insert(user_cpts), [{"user_id": user.id, "cpts_id": c} for c in own])
    practice.execute(insert(User.__table__), [{
        "id": OTHER_REGULATOR_ID, "email": "autre.regulateur@entrainement.invalid", "password_hash": "!practice",
        "role": "regulator", "active": True, "created_at": utcnow()}])
    if own:
        practice.execute(insert(user_cpts), [{"user_id": OTHER_REGULATOR_ID, "cpts_id": c} for c in own])
    return list(practice.scalars(select(Practitioner.id).where(Practitioner.lat.is_not(None))
                                 .order_by(Practitioner.id).limit(MAX_AGENDA_PRACTITIONERS)))


def _copy(real, practice: Session, table, where) -> None:
    rows = [dict(r) for r in real.execute(select(table).where(where)).mappings()]
    if rows:
        practice.execute(insert(table), rows)


def _agenda(practice: Session, practitioner_ids: list[int], seed: int) -> dict:
    """Blocks of quarter-hours over today and the next two days (Paris), a third of them booked."""
    rng = random.Random(seed)
    today = paris_today()
    now = utcnow()
    slots, bookings = [], []
    slot_id = booking_id = 0
    for index, practitioner_id in enumerate(practitioner_ids):
        for offset in range(3):
            day = today + timedelta(days=offset)
            morning = (index + offset) % 2 == 0
            first = time(8 + index % 3, 0) if morning else time(14, 0)
            mode = "home_visit" if index % 5 == 4 and not morning else "office"
            start = datetime.combine(day, first, PARIS)
            for _ in range(12 if morning else 16):
                slot_id += 1
                start_utc = start.astimezone(timezone.utc)
                booked = start_utc > now and rng.random() < 0.35
                status = "booked" if booked else ("expired" if start_utc <= now else "free")
                slots.append({"id": slot_id, "practitioner_id": practitioner_id, "start_at": start_utc,
                              "end_at": start_utc + timedelta(minutes=SLOT_MINUTES), "mode": mode, "status": status,
                              "created_at": now})
                if booked:
                    booking_id += 1
                    bookings.append((booking_id, slot_id))
                start += timedelta(minutes=SLOT_MINUTES)
    if slots:
        practice.execute(insert(Slot.__table__), slots)
    patients, booking_rows = [], []
    for booking_id, slot_id in bookings:
        last, first = rng.choice(FICTIONAL_PATIENTS)
        patients.append({"id": booking_id, "first_name": first, "last_name": last, "phone": "+33600000000",
                         "has_treating_doctor": "unknown"})
        booking_rows.append({
            "id": booking_id, "slot_id": slot_id, "patient_id": booking_id, "booked_by_id": OTHER_REGULATOR_ID,
            "channel": "116117", "status": "booked", "has_treating_doctor": "unknown", "by_treating_doctor": False,
            "created_at": now - timedelta(hours=1),
            # Made for no CPTS: the grid shows the slot booked, the console lists only the scenario's own patients.
            "cpts_id": None})
    if booking_rows:  # one statement per table: a build is on the way into every scenario
        practice.execute(insert(Patient.__table__), patients)
        practice.execute(insert(Booking.__table__), booking_rows)
    return {"practitioner_ids": practitioner_ids}


def remove(app: Flask, user_id: int) -> None:
    """Leaving practice: the practice database goes (this request's reads of it let go first)."""
    db.session.commit()
    unbind()
    _drop(app, user_id)


def rebuild_and_bind(app: Flask, user: User, scope: set[int] | None) -> dict:
    """Build the trainee's practice database anew (on entry, a scenario, "Réinitialiser") and bind the rest of
    this request to it. The area is read from the real database."""
    db.session.commit()  # reads only: whatever the request read of the old practice database is let go
    unbind()
    facts = build(app, user, scope)
    bind_request_to(engine_for(app, user.id))
    return facts


def latest_patient_sms(baseline_booking: int) -> str | None:
    """The text the patient would have received for the trainee's last booking (practice database: never sent)."""
    from ..models import OutboxMessage

    return db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.recipient == "patient",
                                                              OutboxMessage.booking_id > baseline_booking)
                             .order_by(OutboxMessage.id.desc()).limit(1))
