"""Addresses that imitate others, and names that read otherwise than stored (issue 28, finding 11).

An e-mail is stored NFKC and case-folded and refused when its UTS #39 skeleton is that of an existing
account (a Cyrillic "а" for "a", full-width letters, "İ"); names refuse bidirectional controls, which
make a name display differently from what it is ("Martin" + U+202E + "nitraM").
"""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from snp_service import create_app
from snp_service.accounts import passwords, sign_in, users
from snp_service.core.extensions import db
from snp_service.models import Cpts, User

from .factories import PASSWORD

CYRILLIC_A = "\u0430"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE


def _create(client, headers, email, cpts):
    return client.post("/api/v1/users", headers=headers, json={
        "email": email, "password": "une-phrase-de-passe-neuve", "role": "regulator", "cpts_ids": [cpts.id]})


def _accounts_named(email_like: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User).where(User.email.like(email_like)))


@pytest.mark.parametrize("imitation,code", [
    (f"p{CYRILLIC_A}ul.martin@cpts-lv.fr", "email_confusable"),          # Cyrillic а
    ("ｐａｕｌ.ｍａｒｔｉｎ@ｃｐｔｓ-ｌｖ.ｆｒ", "email_taken"),                   # full width: NFKC makes it the same
    ("Paul.MARTIN@CPTS-LV.FR", "email_taken"),
    ("paul.rnartin@cpts-lv.fr", "email_confusable"),                      # rn for m
])
def test_an_address_that_imitates_an_account_is_refused(client, world, imitation, code):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    assert _create(client, headers, "paul.martin@cpts-lv.fr", cpts).status_code == 201
    refused = _create(client, headers, imitation, cpts)
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == code and "paul" not in error["message"]
    assert _accounts_named("%@%") == 2  # the coordinator and Paul, no third


def test_a_dotted_capital_i_imitates_the_plain_letter(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    assert _create(client, headers, "admin.cpts@cpts-lv.fr", cpts).status_code == 201
    refused = _create(client, headers, "admİn.cpts@cpts-lv.fr", cpts)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "email_confusable"
    assert "ressemble" in refused.get_json()["error"]["message"]


def test_bidirectional_and_invisible_characters_are_refused_in_addresses(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    for email in (f"paul{RLO}rf.vl-stpc@x.fr", "paul\u200b@cpts-lv.fr", "paul martin@cpts-lv.fr"):
        refused = _create(client, headers, email, cpts)
        assert refused.status_code == 422 and "email" in refused.get_json()["error"]["fields"], email


def test_the_database_refuses_two_lookalike_addresses(ctx, world):
    world.user("regulator", email="claire.morel@cpts-lv.fr")
    db.session.add(User(email=f"cl{CYRILLIC_A}ire.morel@cpts-lv.fr", password_hash="x", role="regulator"))
    with pytest.raises(Exception) as raised:
        db.session.commit()
    db.session.rollback()
    assert "email_skeleton" in str(raised.value) or "UNIQUE" in str(raised.value).upper()


def test_sign_in_reads_the_typed_address_the_same_way(client, world):
    user = world.user("regulator", world.cpts(), email="claire.morel@cpts-lv.fr")
    for typed in ("Claire.Morel@CPTS-LV.fr", "ｃｌａｉｒｅ.ｍｏｒｅｌ@ｃｐｔｓ-ｌｖ.ｆｒ", "  claire.morel@cpts-lv.fr "):
        answer = client.post("/api/v1/auth/token", json={"email": typed, "password": PASSWORD})
        assert answer.status_code == 200 and answer.get_json()["user"]["id"] == user.id, typed
    imitation = client.post("/api/v1/auth/token", json={"email": f"cl{CYRILLIC_A}ire.morel@cpts-lv.fr",
                                                        "password": PASSWORD})
    assert imitation.status_code == 401


def test_existing_addresses_keep_signing_in_after_the_migration(empty_database_url):
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="a7d2e9c4b1f8")  # the revision before e-mails were case-folded and skeletons kept
        hashed = passwords.hash_password(PASSWORD)
        for email in ("straße@praxis.de", "paul@cpts-lv.fr", f"p{CYRILLIC_A}ul@cpts-lv.fr"):  # stored lower-cased
            db.session.execute(text("INSERT INTO user_account (email, password_hash, role, active, created_at) "
                                    "VALUES (:email, :hash, 'regulator', :active, CURRENT_TIMESTAMP)"),
                               {"email": email, "hash": hashed, "active": True})
        db.session.commit()
        upgrade()
        assert sign_in.authenticate("Straße@praxis.de", PASSWORD).email == "strasse@praxis.de"
        assert sign_in.authenticate(f"p{CYRILLIC_A}ul@cpts-lv.fr", PASSWORD).email == f"p{CYRILLIC_A}ul@cpts-lv.fr"
        older, newer = db.session.scalars(select(User).where(User.email.like("p%ul@cpts-lv.fr")).order_by(User.id))
        assert older.email_skeleton is not None and newer.email_skeleton is None
        assert users.email_holder("paul@cpts-lv.fr", other_than=older) is None  # the newer one hides nothing
        db.session.remove()
        db.engine.dispose()


# --- names: bidirectional controls ---------------------------------------------------------------


def test_names_with_bidirectional_controls_are_refused(client, world):
    cpts = world.cpts()
    coordinator = world.headers(world.user("coordinator", cpts))
    admin = world.headers(world.user("admin"))
    practitioner = client.post("/api/v1/practitioners", headers=coordinator, json={
        "cpts_ids": [cpts.id], "rpps": "10101010105", "first_name": "Anne", "last_name": f"Martin{RLO}nitraM",
        "profession": "gp"})
    assert practitioner.status_code == 422
    assert practitioner.get_json()["error"]["fields"]["last_name"] == ["contains a bidirectional control character"]
    for name in (f"CPTS {RLO}eénedneV", "CPTS \u2066Vendée\u2069", "CPTS\u200fVendée"):
        created = client.post("/api/v1/cpts", headers=admin, json={"name": name, "population": 1000})
        assert created.status_code == 422 and "name" in created.get_json()["error"]["fields"], name
    commune = {"insee": "85047", "name": f"Chall{RLO}ans", "lat": 46.8, "lon": -1.9}
    created = client.post("/api/v1/cpts", headers=admin, json={"name": "CPTS Marais", "population": 1000,
                                                                "communes": [commune]})
    assert created.status_code == 422
    season = client.post("/api/v1/seasons", headers=coordinator, json={
        "cpts_id": cpts.id, "name": f"Été{RLO} 2026", "start_date": "2026-07-13", "end_date": "2026-09-10"})
    assert season.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Cpts)) == 1


def test_patient_names_with_bidirectional_controls_are_refused(client, world):
    cpts = world.cpts()
    slot = world.slot(world.practitioner(cpts))
    headers = world.headers(world.user("regulator", cpts))
    patient = {"first_name": "Jeanne", "last_name": f"Durand{RLO}", "birth_date": "1980-05-01",
               "phone": "+33612345678", "commune_insee": "85222", "has_treating_doctor": "no"}
    refused = client.post("/api/v1/bookings", headers=headers, json={
        "slot_id": slot.id, "patient": patient, "reason": "fièvre", "channel": "116117", "notify_patient": False})
    assert refused.status_code == 422


def test_the_service_refuses_bidirectional_controls_without_the_api(ctx, world):
    from snp_service.core.errors import Invalid
    from snp_service.bookings.patients import checked_patient

    with pytest.raises(Invalid) as refused:
        checked_patient({"first_name": f"\u2067Jeanne\u2069", "last_name": "Durand", "birth_date": None,
                         "phone": "+33612345678"})
    assert refused.value.fields["patient"]["first_name"] == ["contains a bidirectional control character"]
