"""Regulator accounts created and updated by the SAS platform (INT_R02): the package's examples are accepted,
replays change nothing, invalid resources are 400/422 OperationOutcome and change nothing."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from snp_service.core.extensions import db
from snp_service.models import AuditEvent, SasRegulatorIdentifier, User

from .sas_world import SAS_HEADERS, assert_conforms, assert_operation_outcome, configure

EXAMPLES = Path(__file__).parent / "fixtures" / "sas"  # the package's own examples (CC0)
TECHNICAL = "urn:oid:1.2.250.1.213.3.6"
NATIONAL = "urn:oid:1.2.250.1.71.4.2.1"


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def platform(app, world):
    configure(app, SAS_REGULATION_AREA="Vendée littoral")
    first, second = world.cpts(regulation_area="Vendée littoral"), world.cpts(regulation_area="Vendée littoral")
    world.cpts(regulation_area="Gironde")
    return {"cpts_ids": sorted([first.id, second.id]), "client": app.test_client()}


def _post(platform, resource):
    return platform["client"].post("/api/v1/fhir/Practitioner", json=resource, headers=SAS_HEADERS)


def _put(platform, identifier, resource):
    return platform["client"].put(f"/api/v1/fhir/Practitioner?identifier={identifier}", json=resource,
                                  headers=SAS_HEADERS)


def _accounts():
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.role == "regulator").order_by(User.id)).all()


def test_the_packages_creation_example_creates_a_regulator_of_the_area(platform):
    response = _post(platform, _example("Practitioner-ExamplePractitionerRegul1"))
    assert response.status_code == 201 and response.mimetype == "application/fhir+json"
    (user,) = _accounts()
    assert response.headers["Location"].endswith(f"/api/v1/fhir/Practitioner/{user.id}")
    assert (user.email, user.active, sorted(user.cpts_ids)) == ("sebastien.loridon@test.com", True,
                                                               platform["cpts_ids"])
    body = assert_conforms(response.get_json())
    assert body["id"] == str(user.id) and body["meta"]["profile"] == [
        "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"]
    assert _post(platform, _example("Practitioner-ExamplePractitionerRegul1")).status_code == 409  # a duplicate
    assert len(_accounts()) == 1


def test_the_faqs_sequence_technical_id_then_national_id_then_deactivation(platform):
    created = copy.deepcopy(_example("Practitioner-ExamplePractitionerRegul2"))
    created["identifier"] = [{"type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                   "code": "INTRN"}]},
                              "system": TECHNICAL, "value": "b6e39355-8a61-4556-b340-36f7b95fec6a"}]
    assert _post(platform, created).status_code == 201
    # The FAQ: PUT on the technical id, with the national id in the body.
    linked = _put(platform, f"{TECHNICAL}|b6e39355-8a61-4556-b340-36f7b95fec6a",
                  _example("Practitioner-ExamplePractitionerRegul2"))
    assert linked.status_code == 200
    assert_conforms(linked.get_json())
    (user,) = _accounts()
    identifiers = {(i.system, i.value, i.type_code) for i in db.session.scalars(select(SasRegulatorIdentifier))}
    assert identifiers == {(TECHNICAL, "b6e39355-8a61-4556-b340-36f7b95fec6a", "INTRN"),
                           (NATIONAL, "810002673899", "IDNPS")}
    # Then PUT on the national id with active false: the habilitation is removed.
    assert _put(platform, f"{NATIONAL}|810002673899", _example("Practitioner-ExamplePractitionerRegul3")).status_code == 200
    (user,) = _accounts()
    assert user.active is False
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("sas.regulator.%"))) == 3


def test_an_update_of_an_unknown_identifier_creates_the_account(platform):
    response = _put(platform, f"{NATIONAL}|810002673899", _example("Practitioner-ExamplePractitionerRegul2"))
    assert response.status_code == 201
    assert _put(platform, f"{NATIONAL}|810002673899",
                _example("Practitioner-ExamplePractitionerRegul2")).status_code == 200
    assert len(_accounts()) == 1


def _broken(change) -> dict:
    resource = copy.deepcopy(_example("Practitioner-ExamplePractitionerRegul1"))
    change(resource)
    return resource


@pytest.mark.parametrize("status, body", [
    (400, b"{not json"),
    (400, json.dumps([1, 2]).encode()),
    (400, json.dumps({"resourceType": "Patient"}).encode()),
    (422, json.dumps(_broken(lambda r: r.pop("identifier"))).encode()),
    (422, json.dumps(_broken(lambda r: r.pop("active"))).encode()),
    (422, json.dumps(_broken(lambda r: r["identifier"][0].pop("system"))).encode()),
    (422, json.dumps(_broken(lambda r: r["name"][0].pop("family"))).encode()),
    (422, json.dumps(_broken(lambda r: r.pop("telecom"))).encode()),
    (422, json.dumps(_broken(lambda r: r.update(active="yes"))).encode()),
    (422, json.dumps(_broken(lambda r: r["meta"].update(source="urn:oid:1.2.3"))).encode()),
    (422, json.dumps(_broken(lambda r: r.update(telecom=5, name="x", identifier=[{"type": {"coding": 3}}]))).encode()),
    (422, json.dumps(_broken(lambda r: r["identifier"][0].update(value="x" * 101))).encode()),
    (400, json.dumps(_broken(lambda r: r["identifier"][0].update(value="a\u0000b"))).encode()),
    (400, json.dumps(_broken(lambda r: r["name"][0].update(family="\ud800"))).encode()),
])
def test_invalid_resources_are_refused_and_change_nothing(platform, status, body):
    response = platform["client"].post("/api/v1/fhir/Practitioner", data=body, headers={
        **SAS_HEADERS, "Content-Type": "application/fhir+json"})
    assert response.status_code == status, response.get_data(as_text=True)
    outcome = assert_operation_outcome(response.get_json())
    assert outcome["issue"][0]["code"] == ("invalid" if status == 400 else "business-rule")
    assert _accounts() == []


def test_rules_of_ours_are_422(platform, world, app):
    world.user("coordinator", email="sebastien.loridon@test.com")
    assert _post(platform, _example("Practitioner-ExamplePractitionerRegul1")).status_code == 422  # e-mail taken
    assert _put(platform, "no-bar", _example("Practitioner-ExamplePractitionerRegul2")).status_code == 400
    app.config["SAS_REGULATION_AREA"] = "Nowhere"
    response = _post(platform, _example("Practitioner-ExamplePractitionerRegul2"))
    assert response.status_code == 422 and "SAS_REGULATION_AREA" in response.get_json()["issue"][0]["diagnostics"]
    assert _accounts() == []


def test_a_deactivated_regulator_cannot_sign_in(platform, client):
    _post(platform, _example("Practitioner-ExamplePractitionerRegul2"))
    _put(platform, f"{NATIONAL}|810002673899", _example("Practitioner-ExamplePractitionerRegul3"))
    (user,) = _accounts()
    assert user.active is False and not user.is_active
