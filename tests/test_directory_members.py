"""Members from the national directory: POST /practitioners {directory_rpps}, and the treating-doctor look-up."""
from __future__ import annotations

from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.cpts.practitioners import check_typed_identifiers
from snp_service.demo import load_demo
from snp_service.directory.loading import load_extract
from snp_service.models import AuditEvent, DirectoryLoad, Practitioner, User
from tests.directory_files import extract_text, person, rpps_number


def load(tmp_path, people, departements=("85", "44")):
    path = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    path.write_text(extract_text(people), encoding="utf-8")
    return load_extract("cli", str(path), list(departements))


def test_a_coordinator_adds_a_nurse_from_the_directory_and_may_change_a_field(client, world, tmp_path):
    cpts = world.cpts()
    load(tmp_path, [person(1, last_name="FICTIF-GUILBAUD", first_name="Anaïs", profession="60", commune="85047",
                           postal_code="85300", commune_name="Challans")])
    headers = world.headers(world.user("coordinator", cpts))
    # What the directory gives is trusted; a SIRET typed over it is checked like any typed by hand.
    typed_wrong = client.post("/api/v1/practitioners", headers=headers, json={
        "directory_rpps": rpps_number(1), "cpts_ids": [cpts.id], "practice_siret": "12345678900012"})
    assert typed_wrong.status_code == 422 and list(typed_wrong.get_json()["error"]["fields"]) == ["practice_siret"]

    response = client.post("/api/v1/practitioners", headers=headers,
                           json={"directory_rpps": rpps_number(1), "cpts_ids": [cpts.id], "phone": "+33612345678"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rpps"], body["last_name"], body["first_name"], body["profession"]) == (
        rpps_number(1), "FICTIF-GUILBAUD", "Anaïs", "nurse")
    assert body["commune_insee"] == "85047" and body["postal_code"] == "85300"
    assert body["address"] == "2 Rue DES DUNES" and body["practice_siret"]
    assert body["phone"] == "+33612345678"  # typed over the directory's
    assert round(body["lat"], 1) == 46.8  # Challans's centroid
    assert db.session.query(AuditEvent).filter_by(action="practitioner.create").count() == 1


def test_an_rpps_missing_from_the_directory_or_another_cpts_is_refused(client, world, tmp_path):
    cpts, other = world.cpts(), world.cpts()
    load(tmp_path, [person(1)])
    headers = world.headers(world.user("coordinator", cpts))

    missing = client.post("/api/v1/practitioners", headers=headers,
                          json={"directory_rpps": rpps_number(99), "cpts_ids": [cpts.id]})
    assert missing.status_code == 422
    assert "directory_rpps" in missing.get_json()["error"]["fields"]
    elsewhere = client.post("/api/v1/practitioners", headers=headers,
                            json={"directory_rpps": rpps_number(1), "cpts_ids": [other.id]})
    assert elsewhere.status_code == 403
    neither = client.post("/api/v1/practitioners", headers=headers, json={"cpts_ids": [cpts.id]})
    assert neither.status_code == 422
    assert {"rpps", "first_name", "last_name"} <= set(neither.get_json()["error"]["fields"])
    assert db.session.query(Practitioner).count() == 0


def test_the_regulator_finds_a_non_member_doctor_of_the_area_in_the_directory(client, world, tmp_path):
    lv = world.cpts(regulation_area="Vendée")
    member = world.practitioner(lv, first_name="Yann", last_name="Lebreton", rpps=rpps_number(1))
    load(tmp_path, [person(1, last_name="LEBRETON", first_name="Yann"),
                    person(2, last_name="LEBRETON", first_name="Marie"),
                    person(3, last_name="LEBRETON", first_name="Nurse", profession="60"),
                    person(4, last_name="LEBRETON", first_name="Nantais", departement="44", commune="44109",
                           postal_code="44000")])
    headers = world.headers(world.user("regulator", lv))

    results = client.get("/api/v1/practitioners/lookup", query_string={"q": "lebreton"},
                         headers=headers).get_json()["results"]

    # The member first and marked, then the directory's médecins of the area's département; no nurse,
    # no one from Loire-Atlantique, the member not twice.
    assert [(r["first_name"], r["member"], r["id"]) for r in results] == [
        ("Yann", True, member.id), ("Marie", False, None)]
    assert results[1]["rpps"] == rpps_number(2) and results[1]["commune_name"] == "Saint-Gilles-Croix-de-Vie"


def test_the_demo_has_a_small_directory_where_the_regulator_finds_a_non_member(client, world):
    load_demo()
    regulator = db.session.scalar(select(User).where(User.email == "regulation1@cpts-lv.demo"))
    headers = world.headers(regulator)

    def looked_up(typed):
        return [(r["last_name"], r["first_name"], r["member"]) for r in client.get(
            "/api/v1/practitioners/lookup", query_string={"q": typed}, headers=headers).get_json()["results"]]

    assert looked_up("perraud") == [("PERRAUD", "Gilles", False)]
    # Members first; the directory's compound names by any of their words, the members listed once.
    assert looked_up("fontaine") == [("Fontaine", "Élise", True), ("DE LA FONTAINE", "Jean-Pierre", False)]
    assert looked_up("bernard") == [("Bernard", "Thomas", True)]
    assert looked_up("boutet") == []  # a nurse: no treating doctor
    # The demo's own numbers pass the checks a hand-made member must pass.
    for practitioner in db.session.scalars(select(Practitioner)):
        check_typed_identifiers({"rpps": practitioner.rpps, "practice_siret": practitioner.practice_siret})
    load_demo()  # already there: the directory is not loaded again
    assert db.session.scalar(select(func.count()).select_from(DirectoryLoad)) == 1
