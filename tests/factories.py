"""Factories: each test builds exactly the world it needs (Indico's habit).

Each object a factory makes is committed, unless it is made inside ``World.batch()``: there it is only flushed
(its id is assigned, its relationships work) and the batch commits everything once, when it ends. The rule:
flush while building, commit once before the test calls a service, the client or another thread (a live
server, a scheduler job, a raw connection). A test needs a commit exactly then: ``write_transaction`` refuses
to start on flushed but uncommitted changes, and another connection sees only what is committed.
"""
from __future__ import annotations

import functools
import itertools
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

from snp_service.accounts import page_sessions, passwords, tokens
from snp_service.core.extensions import db
from snp_service.core.identifiers import with_luhn_key
from snp_service.core.timeutil import utcnow
from snp_service.models import Booking, Commune, Cpts, Patient, Practitioner, Slot, User

PASSWORD = "correct-horse-battery"


@functools.cache
def password_hash() -> str:
    """The hash of ``PASSWORD``, made once per process: scrypt costs about 0.1 s, and a test makes many users.
    Every World user shares it (a salt shared by test accounts tells the tests nothing)."""
    return passwords.hash_password(PASSWORD)
_seq = itertools.count(1)
_BATCH_DEPTH = "tests_world_batch_depth"  # Session.info key: how many World.batch() blocks are open


def page_csrf(client, path: str) -> str:
    """The CSRF token a page carries (its meta tag, or the login form's hidden field)."""
    page = client.get(path).get_data(as_text=True)
    found = (re.search(r'name="csrf-token" content="([^"]+)"', page)
             or re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page))
    return found.group(1)


def sign_in_form(client, user: User, password: str = PASSWORD) -> str:
    """Sign in through the /login form; returns the CSRF token of the home page it lands on (signing in starts a
    new session, CSRF token included)."""
    home = client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": page_csrf(client, "/login")}).location
    return page_csrf(client, home)


class World:
    @staticmethod
    @contextmanager
    def batch():
        """Build many objects with one commit: inside, factories flush; a clean exit commits once, an exception
        rolls back and goes on. Batches nest: only the outermost commits (or rolls back).

        Flush while building, commit once before the test calls a service, the client or another thread: so a
        batch ends before the test acts. The two factories that call a service themselves (``headers`` and
        ``sign_in_page``) commit what the batch built so far first.
        """
        session = db.session()
        depth = session.info.get(_BATCH_DEPTH, 0)
        session.info[_BATCH_DEPTH] = depth + 1
        try:
            yield
        except BaseException:
            if depth == 0:
                session.rollback()
            raise
        else:
            if depth == 0:
                session.commit()
        finally:
            session.info[_BATCH_DEPTH] = depth

    @staticmethod
    def in_batch() -> bool:
        return db.session().info.get(_BATCH_DEPTH, 0) > 0

    @classmethod
    def save_changes(cls) -> None:
        """Keep changes made to built objects (a status set, a CPTS appended): commit, or flush inside a batch."""
        if cls.in_batch():
            db.session.flush()
        else:
            db.session.commit()

    @classmethod
    def _before_service(cls) -> None:
        """A service's write transaction is about to start: inside a batch, what was built so far is committed."""
        if cls.in_batch():
            db.session.commit()

    def cpts(self, name: str | None = None, population: int = 50_000, regulation_area: str | None = None,
             communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),)) -> Cpts:
        cpts = Cpts(name=name or f"CPTS {next(_seq)}", population=population, regulation_area=regulation_area,
                    communes=[Commune(insee=i, name=n, lat=la, lon=lo) for i, n, la, lo in communes])
        return self._save(cpts)

    def practitioner(self, cpts: Cpts, *, rpps: str | None = None, last_name: str | None = None,
                     first_name: str = "Alex", commune_insee: str = "85222", lat: float = 46.6975,
                     lon: float = -1.9428, profession: str = "gp") -> Practitioner:
        n = next(_seq)
        practitioner = Practitioner(
            rpps=rpps or with_luhn_key(f"19{n:08d}"), first_name=first_name, last_name=last_name or f"Medecin{n}",
            profession=profession, phone="+33251000000", address=f"{n} rue du Port", commune_insee=commune_insee,
            lat=lat, lon=lon, cpts=[cpts])
        return self._save(practitioner)

    def user(self, role: str, cpts: Cpts | None = None, practitioner: Practitioner | None = None,
             email: str | None = None) -> User:
        user = User(email=email or f"{role}{next(_seq)}@test.example", password_hash=password_hash(),
                    role=role, practitioner_id=practitioner.id if practitioner else None,
                    cpts=[cpts] if cpts else [])
        return self._save(user)

    def gp(self, cpts: Cpts, **kwargs) -> User:
        return self.user("gp", cpts, self.practitioner(cpts, **kwargs))

    def slot(self, practitioner: Practitioner, start: datetime | None = None, minutes: int = 15,
             status: str = "free", mode: str = "office") -> Slot:
        start = start or utcnow() + timedelta(hours=2)
        return self._save(Slot(practitioner_id=practitioner.id, start_at=start,
                               end_at=start + timedelta(minutes=minutes), status=status, mode=mode))

    def booking(self, slot: Slot, channel: str = "116117", status: str = "booked", cpts: Cpts | None = None,
                **patient) -> Booking:
        """A booking made for ``cpts`` (default: the practitioner's first CPTS, as a booking there would be)."""
        person = Patient(first_name=patient.get("first_name", "Jeanne"), last_name=patient.get("last_name", "Durand"),
                         phone=patient.get("phone", "+33612345678"), has_treating_doctor="no")
        cpts_id = cpts.id if cpts else min(db.session.get(Practitioner, slot.practitioner_id).cpts_ids, default=None)
        booking = Booking(slot=slot, cpts_id=cpts_id, patient=person, channel=channel, status=status,
                          has_treating_doctor="no")
        if status == "booked":
            slot.status = "booked"
        return self._save(booking)

    def headers(self, user: User) -> dict:
        self._before_service()
        secret, _token = tokens.issue_token(user, timedelta(hours=1))
        return {"Authorization": f"Bearer {secret}"}

    @staticmethod
    def forget_sign_in_attempts() -> None:
        """Empty the sign-in throttle's count (kept in the database), for tests that sign in many times."""
        from sqlalchemy import delete

        from snp_service.models import SignInAttempt

        db.session.execute(delete(SignInAttempt))
        db.session.commit()

    @staticmethod
    def sign_in_page(client, user: User) -> None:
        """Sign ``client`` in as the /login page does: a server-side session, its secret in the cookie."""
        World._before_service()
        secret = page_sessions.start(user)
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)  # Flask-Login's key
            session[page_sessions.COOKIE_KEY] = secret

    @classmethod
    def _save(cls, obj):
        db.session.add(obj)
        cls.save_changes()
        return obj
