"""Page sessions live on the server: a copied cookie dies with the session (issue 15, item 5).

These tests make their requests outside any pushed app context: the test client's requests would
otherwise share that context's ``g``, where Flask-Login keeps the signed-in user, so a later request
would see the user of an earlier one whatever its cookie says. Data is made and read in short
app contexts of its own (``inside``).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest

from sqlalchemy import func, select, update

from snp_service.accounts import page_sessions, passwords, users
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import ApiToken, PageSession

from .factories import PASSWORD, World


@pytest.fixture
def inside(app):
    """``with inside():`` runs a block in a short app context of its own."""
    @contextmanager
    def app_context():
        with app.app_context():
            yield
            db.session.remove()
    return app_context


class WorldOutsideRequests(World):
    """The factories, each call in its own app context (the module's requests run outside any)."""

    def __init__(self, inside):
        self._inside = inside

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            with self._inside():
                return attribute(*args, **kwargs)
        return call


@pytest.fixture
def world(inside):
    return WorldOutsideRequests(inside)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _page_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _sign_in(client, user, password=PASSWORD):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy_with(app, cookie: str):
    """Another browser holding a copy of ``cookie`` (what someone who lifted it would have)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _signed_in(client, path="/gp") -> bool:
    response = client.get(path)
    return response.status_code == 200


def _sessions(app, user) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PageSession).where(PageSession.user_id == user.id))


def _secret(app, cookie: str) -> str:
    return app.session_interface.get_signing_serializer(app).loads(cookie)[page_sessions.COOKIE_KEY]


def test_a_cookie_copied_before_sign_out_is_dead_after_it(app, client, world):
    gp = world.gp(world.cpts())
    assert _sign_in(client, gp).status_code == 302
    stolen = _cookie(client)
    assert _signed_in(_copy_with(app, stolen))  # the copy works while the session lives

    logout = client.post("/logout", data={"csrf_token": _page_token(client, "/gp")})

    assert logout.status_code == 302
    assert not _signed_in(client)
    copy = _copy_with(app, stolen)
    refused = copy.get("/gp")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert _sessions(app, gp) == 0


def test_signing_out_ends_the_users_other_browsers_too(app, world):
    gp = world.gp(world.cpts())
    phone, desktop = app.test_client(), app.test_client()
    _sign_in(phone, gp)
    _sign_in(desktop, gp)
    assert _sessions(app, gp) == 2 and _signed_in(phone) and _signed_in(desktop)

    phone.post("/logout", data={"csrf_token": _page_token(phone, "/gp")})

    assert not _signed_in(desktop)
    assert _sessions(app, gp) == 0


def test_sign_in_rotates_the_session_id(app, client, world):
    gp = world.gp(world.cpts())
    _sign_in(client, gp)
    first = _cookie(client)
    _sign_in(client, gp)  # signing in again from the same browser
    second = _cookie(client)

    assert _secret(app, first) != _secret(app, second)
    assert not _signed_in(_copy_with(app, first))  # the replaced session is ended, not merely forgotten
    assert _signed_in(_copy_with(app, second))
    assert _sessions(app, gp) == 1
    # Only a hash of the secret is kept.
    with app.app_context():
        stored = db.session.scalars(select(PageSession.secret_hash)).all()
    assert _secret(app, second) not in stored and len(stored[0]) == 64


def test_deactivation_ends_every_session_and_reactivation_revives_none(app, client, world, inside):
    cpts = world.cpts()
    regulator = world.user("regulator", cpts)
    _sign_in(client, regulator)
    cookie = _cookie(client)
    assert _signed_in(client, "/regulation")

    with inside():
        users.set_user_active("test", regulator.id, False)
    assert not _signed_in(client, "/regulation")
    with inside():
        users.set_user_active("test", regulator.id, True)

    assert not _signed_in(_copy_with(app, cookie), "/regulation")
    assert _sessions(app, regulator) == 0
    assert _sign_in(app.test_client(), regulator).status_code == 302  # a fresh sign-in works


def test_password_change_ends_page_sessions_and_api_tokens(app, client, world, inside):
    gp = world.gp(world.cpts())
    _sign_in(client, gp)
    headers = world.headers(gp)
    assert client.get("/api/v1/slots", headers=headers).status_code == 200

    with inside():
        users.change_password("test", gp.id, "une-phrase-de-passe-neuve")

    assert not _signed_in(client)
    assert app.test_client().get("/api/v1/slots", headers=headers).status_code == 401
    with inside():
        assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    assert _sign_in(app.test_client(), gp).status_code == 401  # the old password is gone
    assert _sign_in(app.test_client(), gp, "une-phrase-de-passe-neuve").status_code == 302


def test_idle_timeout_ends_the_session_and_activity_extends_it(app, client, world):
    assert app.config["PAGE_SESSION_IDLE_MINUTES"] == 480  # a regulator's shift
    regulator = world.user("regulator", world.cpts())
    _sign_in(client, regulator)

    # Seven hours idle: still signed in, and the request counts as activity.
    _age(app, last_seen=timedelta(hours=7))
    assert _signed_in(client, "/regulation")
    assert _seen_ago(app) < timedelta(minutes=1)

    _age(app, last_seen=timedelta(hours=8, minutes=1))
    response = client.get("/regulation")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _sessions(app, regulator) == 0


def test_absolute_timeout_ends_a_busy_session(app, client, world):
    app.config["PAGE_SESSION_MAX_HOURS"] = 14
    regulator = world.user("regulator", world.cpts())
    _sign_in(client, regulator)
    _age(app, created=timedelta(hours=13, minutes=59), last_seen=timedelta(seconds=5))
    assert _signed_in(client, "/regulation")

    _age(app, created=timedelta(hours=14, minutes=1), last_seen=timedelta(seconds=5))
    assert not _signed_in(client, "/regulation")


def test_timeouts_come_from_the_settings(app, client, world):
    app.config["PAGE_SESSION_IDLE_MINUTES"] = 30
    gp = world.gp(world.cpts())
    _sign_in(client, gp)
    _age(app, last_seen=timedelta(minutes=31))
    assert not _signed_in(client)


def test_page_session_signs_the_api_in_and_ends_with_it(app, client, world):
    gp = world.gp(world.cpts())
    _sign_in(client, gp)
    assert client.get("/api/v1/slots").status_code == 200  # pages call the API with their cookie
    stolen = _cookie(client)
    client.post("/logout", data={"csrf_token": _page_token(client, "/gp")})
    assert _copy_with(app, stolen).get("/api/v1/slots").status_code == 401


def test_purge_deletes_only_expired_sessions(app, client, world, inside):
    gp, other = world.gp(world.cpts()), world.gp(world.cpts())
    _sign_in(client, gp)
    _sign_in(app.test_client(), other)
    with inside():
        db.session.execute(update(PageSession).where(PageSession.user_id == gp.id)
                           .values(last_seen_at=utcnow() - timedelta(hours=9)))
        db.session.commit()
        assert page_sessions.purge_expired() == 1
    assert _sessions(app, gp) == 0 and _sessions(app, other) == 1


def _age(app, created: timedelta | None = None, last_seen: timedelta | None = None) -> None:
    values = {}
    if created is not None:
        values["created_at"] = utcnow() - created
    if last_seen is not None:
        values["last_seen_at"] = utcnow() - last_seen
    with app.app_context():
        db.session.execute(update(PageSession).values(**values))
        db.session.commit()


def _seen_ago(app) -> timedelta:
    with app.app_context():
        return utcnow() - db.session.scalar(select(func.max(PageSession.last_seen_at)))


def test_a_sas_deactivation_ends_every_session_like_a_coordinators(app, client, world, inside):
    """INT_R02 ``active: false`` is the removal of the habilitation: the page sessions end with the API tokens."""
    from snp_service.sas import regulators

    app.config["SAS_REGULATION_AREA"] = "Vendée littoral"
    world.cpts(regulation_area="Vendée littoral")
    identifier = regulators.Identifier("urn:oid:1.2.250.1.71.4.2.1", "810002673899", "IDNPS")
    account = regulators.RegulatorAccount((identifier,), True, "sebastien.loridon@test.com", "Loridon", "Sébastien")
    with inside():
        regulator, _ = regulators.upsert(account)
        regulator.password_hash = passwords.hash_password(PASSWORD)  # as a set-up link would
        db.session.commit()
    _sign_in(client, regulator)
    cookie = _cookie(client)
    headers = world.headers(regulator)
    assert _signed_in(client, "/regulation")

    with inside():
        regulators.upsert(regulators.RegulatorAccount((identifier,), False, account.email, "Loridon", "Sébastien"))

    assert not _signed_in(client, "/regulation")
    assert not _signed_in(_copy_with(app, cookie), "/regulation")
    assert _sessions(app, regulator) == 0
    assert app.test_client().get("/api/v1/slots", headers=headers).status_code == 401
