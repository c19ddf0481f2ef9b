"""One-time password set-up links: a coordinator issues one for an account of their CPTS (a regulator the SAS
platform created has a password nobody knows, and no e-mail is sent), hands it over, the person chooses a
password with it and signs in."""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.core.secret_masking import MASK, mask_secrets
from snp_service.core.timeutil import utcnow
from snp_service.models import AuditEvent, PageSession, PasswordSetupLink, User

from .factories import page_csrf as _page_csrf, sign_in_form as _sign_in_form
from .sas_world import SAS_HEADERS, configure

NEW_PASSWORD = "marée-haute-sur-le-port"
LINK = re.compile(r'<textarea id="setup-link"[^>]*>(http://[^<]+/password-setup/([^<"/]+))</textarea>')


@pytest.fixture
def cpts_a(world):
    return world.cpts(regulation_area="Vendée littoral")


@pytest.fixture
def coordinator(app, world, cpts_a):
    user = world.user("coordinator", cpts_a)
    client = app.test_client()
    world.sign_in_page(client, user)
    return user, client


def page_csrf(client, path: str) -> str:
    # The tests' app context outlives requests, so its ``g`` would hand one client's CSRF token (and
    # signed-in user) to the next client.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    return _page_csrf(client, path)


def sign_in_form(client, user, password):
    g.pop("csrf_token", None)
    return _sign_in_form(client, user, password)


def _issue(client, account_id: int):
    return client.post(f"/coordination/accounts/{account_id}/password-link",
                       data={"csrf_token": page_csrf(client, "/coordination")})


def _secret(client, account_id: int) -> str:
    response = _issue(client, account_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "Transmettez ce lien à la personne (il ne sert qu'une fois)" in page
    assert response.headers["Cache-Control"] == "no-store"
    return LINK.search(page).group(2)


def _redeem(client, secret: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    path = f"/password-setup/{secret}"
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm,
                                   "csrf_token": page_csrf(client, path)})


def _links():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PasswordSetupLink))


def test_a_regulator_sets_a_password_with_the_link_and_signs_in(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    _, client = coordinator
    home = client.get("/coordination").get_data(as_text=True)
    assert f"/coordination/accounts/{regulator.id}/password-link" in home
    assert f"/coordination/accounts/{coordinator[0].id}/password-link" not in home  # not for one's own account
    page = _issue(client, regulator.id).get_data(as_text=True)
    url, secret = LINK.search(page).groups()
    assert url.startswith("http://localhost/password-setup/")  # absolute: it leaves the service by hand
    assert "(heure de Paris)" in page and regulator.email in page

    person = app.test_client()
    form = person.get(f"/password-setup/{secret}")
    assert form.status_code == 200 and regulator.email in form.get_data(as_text=True)
    assert form.headers["Referrer-Policy"] == "strict-origin"
    done = _redeem(person, secret)
    assert done.status_code == 302 and done.location.endswith("/login"), done.get_data(as_text=True)[-1200:]
    assert "Mot de passe enregistré : connectez-vous." in person.get("/login").get_data(as_text=True)
    assert sign_in_form(person, regulator, NEW_PASSWORD)
    assert person.get("/regulation").status_code == 200


def test_a_link_serves_once(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    secret = _secret(coordinator[1], regulator.id)
    person = app.test_client()
    assert _redeem(person, secret).status_code == 302
    again = person.get(f"/password-setup/{secret}")
    assert again.status_code == 404 and "n&#39;est pas valable" in again.get_data(as_text=True)
    assert regulator.email not in again.get_data(as_text=True)


def test_an_expired_link_is_refused_and_changes_nothing(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    before = regulator.password_hash
    secret = _secret(coordinator[1], regulator.id)
    link = db.session.scalar(select(PasswordSetupLink))
    assert timedelta(hours=47) < link.expires_at - utcnow() <= timedelta(hours=48)  # PASSWORD_SETUP_LINK_HOURS
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    person = app.test_client()
    assert person.get(f"/password-setup/{secret}").status_code == 404
    response = _redeem(person, secret)
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, regulator.id).password_hash == before


def test_an_unknown_link_is_a_french_404(client):
    response = client.get("/password-setup/not-a-link")
    assert response.status_code == 404 and "Demandez un nouveau lien" in response.get_data(as_text=True)


def test_a_coordinator_of_another_cpts_gets_no_link(app, world, cpts_a):
    regulator = world.user("regulator", cpts_a)
    other = world.user("coordinator", world.cpts())
    client = app.test_client()
    world.sign_in_page(client, other)
    assert _issue(client, regulator.id).status_code == 404
    refused = client.post(f"/coordination/accounts/{regulator.id}/password-link?cpts_id={cpts_a.id}",
                          data={"csrf_token": page_csrf(client, "/coordination")})
    assert refused.status_code in (403, 404)
    assert _links() == 0


def test_a_regulator_cannot_issue_links(app, world, cpts_a):
    regulator, colleague = world.user("regulator", cpts_a), world.user("regulator", cpts_a)
    client = app.test_client()
    world.sign_in_page(client, regulator)
    response = client.post(f"/coordination/accounts/{colleague.id}/password-link",
                           data={"csrf_token": page_csrf(client, "/regulation")})
    assert response.status_code == 403 and _links() == 0


def test_a_weak_password_is_refused_and_the_link_stays_usable(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    secret = _secret(coordinator[1], regulator.id)
    person = app.test_client()
    weak = _redeem(person, secret, "motdepasse")
    page = weak.get_data(as_text=True)
    assert weak.status_code == 422 and "Mot de passe refusé" in page
    assert re.search(r'id="password-error"[^>]*>[^<]*Mot de passe refusé', page)  # next to the field
    mismatch = _redeem(person, secret, NEW_PASSWORD, "autre-chose-encore-123")
    assert mismatch.status_code == 422 and "ne sont pas identiques" in mismatch.get_data(as_text=True)
    assert _redeem(person, secret).status_code == 302


def test_a_new_link_ends_the_earlier_one(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    first = _secret(coordinator[1], regulator.id)
    second = _secret(coordinator[1], regulator.id)
    person = app.test_client()
    assert person.get(f"/password-setup/{first}").status_code == 404
    assert _redeem(person, second).status_code == 302


def test_setting_the_password_ends_the_accounts_sessions(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    signed_in = app.test_client()
    world.sign_in_page(signed_in, regulator)
    assert signed_in.get("/regulation").status_code == 200
    secret = _secret(coordinator[1], regulator.id)
    assert _redeem(app.test_client(), secret).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PageSession).where(PageSession.user_id == regulator.id)) == 0
    assert signed_in.get("/regulation").status_code in (302, 401)


def test_a_deactivated_account_cannot_redeem(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    secret = _secret(coordinator[1], regulator.id)
    regulator.active = False
    db.session.commit()
    assert _redeem(app.test_client(), secret).status_code == 404


def test_issuing_and_redeeming_are_audited_without_the_secret(app, world, cpts_a, coordinator):
    regulator = world.user("regulator", cpts_a)
    secret = _secret(coordinator[1], regulator.id)
    _redeem(app.test_client(), secret)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("user.password_link%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.object_id) for e in events] == [
        ("user.password_link_issue", coordinator[0].id, regulator.id),
        ("user.password_link_redeem", regulator.id, regulator.id)]
    assert all(secret not in repr((e.before, e.after, e.actor_label)) for e in events)


def test_the_secret_is_masked_in_logs(app, caplog):
    secret = "s3cr3t-Tok_en"
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("snp_service.test")
    logger.disabled = False  # the migration tests' Alembic fileConfig disables the loggers that existed then
    logger.error("Exception on /password-setup/%s [POST]", secret)  # as Flask words it
    assert secret not in caplog.text and f"/password-setup/{MASK} [POST]" in caplog.text
    referrer = f"https://snp.example.org/password-setup/{secret}?x=1"  # gunicorn's referrer atom
    assert mask_secrets(referrer) == f"https://snp.example.org/password-setup/{MASK}?x=1"


def test_a_regulator_created_by_the_sas_gets_a_link(app, world, cpts_a, coordinator):
    configure(app, SAS_REGULATION_AREA="Vendée littoral")
    resource = json.loads((Path(__file__).parent / "fixtures" / "sas" / "Practitioner-ExamplePractitionerRegul1.json")
                          .read_text(encoding="utf-8"))  # the package's creation example
    created = app.test_client().post("/api/v1/fhir/Practitioner", json=resource, headers=SAS_HEADERS)
    assert created.status_code == 201, created.get_data(as_text=True)
    regulator = db.session.scalar(select(User).where(User.email == "sebastien.loridon@test.com"))
    person = app.test_client()
    assert _redeem(person, _secret(coordinator[1], regulator.id)).status_code == 302
    assert sign_in_form(person, regulator, NEW_PASSWORD)
    assert person.get("/regulation").status_code == 200
