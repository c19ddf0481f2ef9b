"""What the SAS platform needs of us: a CPTS's FINESS, a practice's ids and postal code, and the practitioner's
own choice to take part (off by default, switched on their phone page, seen by their coordinator)."""
from __future__ import annotations

import re

from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.demo import load_demo
from snp_service.models import AuditEvent, Cpts, Practitioner

from .factories import sign_in_form as sign_in


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_api_takes_and_gives_the_new_fields(client, world):
    admin = world.user("admin")
    cpts = client.post("/api/v1/cpts", headers=world.headers(admin), json={
        "name": "CPTS Test", "population": 50_000, "finess": "850027915",
        "communes": [{"insee": "85222", "name": "Saint-Gilles-Croix-de-Vie", "lat": 46.69, "lon": -1.94,
                      "postal_code": "85800"}]})
    assert cpts.status_code == 201, cpts.get_json()
    assert cpts.get_json()["finess"] == "850027915" and cpts.get_json()["communes"][0]["postal_code"] == "85800"
    created = client.post("/api/v1/practitioners", headers=world.headers(admin), json={
        "cpts_ids": [cpts.get_json()["id"]], "rpps": "10101010105", "first_name": "Claire", "last_name": "Martin",
        "address": "1 rue du Port", "commune_insee": "85222", "practice_siret": "12345678900015"})
    body = created.get_json()
    assert created.status_code == 201, body
    # Off by default; the postal code comes from the commune, as the coordinates do.
    assert (body["sas_participation"], body["postal_code"], body["practice_siret"]) == (False, "85800",
                                                                                       "12345678900015")


def test_bad_identifiers_are_422(client, world):
    admin = world.user("admin")
    cpts = world.cpts()
    for field, value in (("practice_siret", "1234"), ("practice_finess", "85002791X"), ("postal_code", "8580")):
        response = client.post("/api/v1/practitioners", headers=world.headers(admin), json={
            "cpts_ids": [cpts.id], "rpps": "10101010113", "first_name": "A", "last_name": "B", field: value})
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    response = client.patch(f"/api/v1/cpts/{cpts.id}", headers=world.headers(admin), json={"finess": "12"})
    assert response.status_code == 422


def test_taking_part_needs_what_the_platform_requires(client, world):
    admin = world.user("admin")
    cpts = world.cpts()
    response = client.post("/api/v1/practitioners", headers=world.headers(admin), json={
        "cpts_ids": [cpts.id], "rpps": "10101010121", "first_name": "A", "last_name": "B",
        "sas_participation": True})
    assert response.status_code == 422
    assert {"address", "postal_code", "practice_id"} <= response.get_json()["error"]["fields"].keys()


def test_a_gp_switches_it_on_and_off_from_the_phone_page(client, world):
    cpts = world.cpts()
    gp_user = world.gp(cpts)
    practitioner = gp_user.practitioner
    practitioner.postal_code, practitioner.practice_siret = "85800", "12345678900015"
    db.session.commit()
    sign_in(client, gp_user)
    page = client.get("/gp").get_data(as_text=True)
    assert 'data-sas-participation="off"' in page and "Apparaître sur le SAS" in page
    answer = client.post("/gp/sas-participation", data={"participate": "1", "csrf_token": _csrf(page)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/gp#sas")
    page = client.get("/gp").get_data(as_text=True)
    assert 'data-sas-participation="on"' in page and "Ne plus apparaître sur le SAS" in page
    db.session.expire_all()
    assert db.session.get(Practitioner, practitioner.id).sas_participation is True
    client.post("/gp/sas-participation", data={"participate": "0", "csrf_token": _csrf(page)})
    db.session.expire_all()
    assert db.session.get(Practitioner, practitioner.id).sas_participation is False
    actions = db.session.scalars(select(AuditEvent.after).where(AuditEvent.action == "practitioner.sas_participation")
                                 .order_by(AuditEvent.id)).all()
    assert actions == [{"sas_participation": True}, {"sas_participation": False}]


def test_an_incomplete_practice_is_told_what_is_missing(client, world):
    gp_user = world.gp(world.cpts())
    sign_in(client, gp_user)
    page = client.get("/gp").get_data(as_text=True)
    client.post("/gp/sas-participation", data={"participate": "1", "csrf_token": _csrf(page)})
    page = client.get("/gp").get_data(as_text=True)
    assert "le FINESS ou le SIRET du cabinet" in page and 'data-sas-participation="off"' in page


def test_the_coordinator_sees_who_takes_part(client, world):
    cpts = world.cpts()
    shown = world.practitioner(cpts, last_name="Visible")
    shown.sas_participation = True
    world.practitioner(cpts, last_name="Discret")
    db.session.commit()
    sign_in(client, world.user("coordinator", cpts))
    page = client.get(f"/coordination?cpts_id={cpts.id}").get_data(as_text=True)
    rows = {name: state for name, state in re.findall(
        r'<td>Dr Alex (\w+)</td>.*?data-sas-participation="(on|off)"', page, re.S)}
    assert rows == {"Visible": "on", "Discret": "off"}


def test_the_demo_has_a_finess_and_a_few_gps_taking_part(ctx):
    load_demo()
    assert all(c.finess for c in db.session.scalars(select(Cpts)))
    practitioners = db.session.scalars(select(Practitioner)).all()
    taking_part = [p for p in practitioners if p.sas_participation]
    assert 3 <= len(taking_part) < len(practitioners)
    assert all(p.postal_code and p.practice_siret and p.address for p in taking_part)
