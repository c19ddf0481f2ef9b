"""The CPTS variant of the slot search (INT_R04): slots shown to the practitioner's CPTS, named by FINESS."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow

from .sas_world import SAS_HEADERS, assert_conforming_bundle, by_reference, configure, entries, search_url, take_part

CPTS_SLOT = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
CPTS_BUNDLE = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator"
R66 = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"


def _now() -> datetime:
    return utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def two_cpts(app, world):
    configure(app)
    littoral = world.cpts(name="CPTS Littoral")
    loire = world.cpts(name="CPTS Loire")
    littoral.finess, loire.finess = "850027915", "850028012"
    db.session.commit()
    return littoral, loire


def _search(client, practitioners, cpts=True):
    url = search_url([p.rpps for p in practitioners], _now(), _now() + timedelta(days=3), cpts=cpts)
    response = client.get(url, headers=SAS_HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    return assert_conforming_bundle(response.get_json())


def test_a_cpts_slot_carries_the_cpts_type_and_its_care(client, world, two_cpts):
    littoral, _ = two_cpts
    gp = take_part(world.practitioner(littoral))
    world.slot(gp, _now() + timedelta(hours=2))
    bundle = _search(client, [gp])
    assert bundle["meta"]["profile"] == [CPTS_BUNDLE] and bundle["total"] == 1
    slot = entries(bundle, "Slot")[0]
    assert slot["meta"]["profile"] == [CPTS_SLOT]
    assert [c["code"] for c in slot["meta"]["security"]] == ["SNP", "CPTS"]
    consultation, care = slot["serviceType"]
    assert consultation["coding"][0]["code"] == "AMB" and "extension" not in consultation
    assert care["coding"] == [{"system": R66, "code": "604"}]
    assert care["extension"] == [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
                                  "valueReference": {"reference": f"HealthcareService/{littoral.id}"}}]
    resources = by_reference(bundle)
    service = resources[f"HealthcareService/{littoral.id}"]
    organization = resources[service["providedBy"]["reference"]]
    assert organization["identifier"] == [{
        "type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",
                             "code": "IDNST"}]},
        "system": "urn:oid:1.2.250.1.71.4.2.2", "value": "1850027915"}]
    assert organization["name"] == "CPTS Littoral"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService", "Organization"]


def test_a_practitioner_in_two_cpts_one_practitioner_two_cares(client, world, two_cpts):
    littoral, loire = two_cpts
    gp = take_part(world.practitioner(littoral))
    gp.cpts = [littoral, loire]
    db.session.commit()
    for hours in (2, 3):
        world.slot(gp, _now() + timedelta(hours=hours))
    bundle = _search(client, [gp])
    assert bundle["total"] == 2
    assert [len(entries(bundle, kind)) for kind in
            ("Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService", "Organization")] == [
        2, 1, 1, 1, 2, 2]
    for slot in entries(bundle, "Slot"):
        cares = [t["extension"][0]["valueReference"]["reference"] for t in slot["serviceType"] if "extension" in t]
        assert cares == [f"HealthcareService/{littoral.id}", f"HealthcareService/{loire.id}"]
    resources = by_reference(bundle)
    assert len(resources) == len(bundle["entry"])
    assert sorted(o["identifier"][0]["value"] for o in entries(bundle, "Organization")) == ["1850027915", "1850028012"]
    # The individual flow (INT_R01) of the same practitioner: no CPTS, no duplicate slots.
    plain = _search(client, [gp], cpts=False)
    assert plain["total"] == 2 and not entries(plain, "HealthcareService")
    assert all(s["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"]
               for s in entries(plain, "Slot"))


def test_a_cpts_without_finess_cannot_be_named_so_its_slots_stay_individual(client, world, two_cpts):
    unnamed = world.cpts(name="CPTS sans FINESS")
    gp = take_part(world.practitioner(unnamed))
    world.slot(gp, _now() + timedelta(hours=2))
    bundle = _search(client, [gp])
    slot = entries(bundle, "Slot")[0]
    assert bundle["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/BundleAgregateur"]
    assert slot["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"]
    assert [c["code"] for c in slot["meta"]["security"]] == ["SNP"]


def test_an_empty_cpts_answer_is_the_faqs_empty_bundle(client, world, two_cpts):
    gp = take_part(world.practitioner(two_cpts[0]))
    bundle = _search(client, [gp])
    assert bundle["total"] == 0 and "entry" not in bundle
    assert bundle["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/BundleAgregateur"]
