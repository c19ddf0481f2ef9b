"""The ANS test kit for agenda editors, v0.3.0 (2026): one named test per check of issue 25, on SQLite and
PostgreSQL. The transport checks (TLS 1.2+, a revoked client certificate) are in tests/test_sas_mtls.py; the
list of checks and their tests is docs/sas-profiles.md."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import PARIS, utcnow
from snp_service.models import AuditEvent, SasRegulatorIdentifier, User

from .sas_world import SAS_HEADERS, assert_operation_outcome, configure, entries, search_url, take_part

EXAMPLES = Path(__file__).parent / "fixtures" / "sas"
NATIONAL = "urn:oid:1.2.250.1.71.4.2.1"
TECHNICAL = "urn:oid:1.2.250.1.213.3.6"
TYPE_CRENEAU = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"


def _now() -> datetime:
    return utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def _regulator(email: str, national: str | None = "810002673899", technical: str | None = None,
               active: bool = True) -> dict:
    resource = copy.deepcopy(_example("Practitioner-ExamplePractitionerRegul2"))
    identifiers = []
    if national:
        identifiers.append({"type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                 "code": "IDNPS"}]}, "system": NATIONAL, "value": national})
    if technical:
        identifiers.append({"type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                 "code": "INTRN"}]}, "system": TECHNICAL, "value": technical})
    resource.update(identifier=identifiers, active=active, telecom=[{"system": "email", "value": email}])
    return resource


@pytest.fixture
def sas(app, world):
    configure(app, SAS_REGULATION_AREA="Vendée littoral")
    named = world.cpts(name="CPTS Littoral", regulation_area="Vendée littoral")
    named.finess = "850027915"
    unnamed = world.cpts(name="CPTS sans FINESS", regulation_area="Vendée littoral")
    db.session.commit()
    return {"client": app.test_client(), "named": named, "unnamed": unnamed}


def _search(sas, url: str):
    answer = sas["client"].get(url, headers=SAS_HEADERS)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


# -- slot search --------------------------------------------------------------------------------------------

def test_kit_search_instants_with_plus_00_00_with_z_or_with_no_offset(sas, world):
    gp = take_part(world.practitioner(sas["unnamed"]))
    day = (_now() + timedelta(days=2)).astimezone(PARIS).date()
    slot = world.slot(gp, datetime(day.year, day.month, day.day, 14, 0, tzinfo=PARIS))
    utc = f"{slot.start_at.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S}"  # the slot's start, in UTC
    for start, end in ((f"{utc}+00:00", f"{day}T20:00:00+00:00"),  # UTC with +00:00
                       (f"{utc}Z", f"{day}T20:00:00Z"),            # UTC with Z
                       (f"{day}T14:00:00", f"{day}T18:00:00")):    # no offset: Paris time
        bundle = _search(sas, search_url([gp.rpps], start, end))
        assert [s["id"] for s in entries(bundle, "Slot")] == [str(slot.id)], (start, end)
    # One minute later than the slot's start, in each form, finds nothing: the offsets are read, not ignored.
    later = f"{(slot.start_at + timedelta(minutes=1)).astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S}"
    for start in (f"{later}+00:00", f"{later}Z"):
        assert _search(sas, search_url([gp.rpps], start, f"{day}T20:00:00Z"))["total"] == 0


def test_kit_bundle_self_link_repeats_the_query(sas, world):
    gp = take_part(world.practitioner(sas["unnamed"]))
    world.slot(gp, _now() + timedelta(hours=2))
    url = search_url([gp.rpps], _now(), _now() + timedelta(days=1))
    bundle = _search(sas, url)
    (self_link,) = [link["url"] for link in bundle["link"] if link["relation"] == "self"]
    asked = sorted(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert urlsplit(self_link).path.endswith("/api/v1/fhir/Slot")
    assert sorted(parse_qsl(urlsplit(self_link).query, keep_blank_values=True)) == asked


def test_kit_slot_types_answered_are_exactly_those_the_capability_statement_declares(sas, world):
    statement = sas["client"].get("/api/v1/fhir/metadata").get_json()
    (slot_declared,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "Slot"]
    declared = {slot_declared["profile"], *slot_declared.get("supportedProfile", [])}
    answered: dict[str, set] = {}
    for cpts in (sas["named"], sas["unnamed"]):
        gp = take_part(world.practitioner(cpts))
        for hours, mode in ((2, "office"), (3, "home_visit"), (4, "teleconsultation")):
            world.slot(gp, _now() + timedelta(hours=hours), mode=mode)
        bundle = _search(sas, search_url([gp.rpps], _now(), _now() + timedelta(days=1), cpts=True))
        for slot in entries(bundle, "Slot"):
            (profile,) = slot["meta"]["profile"]
            answered.setdefault(profile, set()).add(
                tuple(c["code"] for c in slot["meta"]["security"] if c["system"] == TYPE_CRENEAU))
    assert set(answered) == declared
    by_profile = {slot_declared["profile"]: {("SNP",)}}
    by_profile.update({p: {("SNP", "CPTS")} for p in slot_declared.get("supportedProfile", [])})
    assert answered == by_profile


# -- regulator accounts (INT_R02) -------------------------------------------------------------------------

def _post(sas, resource):
    return sas["client"].post("/api/v1/fhir/Practitioner", json=resource, headers=SAS_HEADERS)


def _put(sas, identifier, resource):
    return sas["client"].put(f"/api/v1/fhir/Practitioner?identifier={identifier}", json=resource, headers=SAS_HEADERS)


def test_kit_a_duplicate_regulator_post_is_409_duplicate(sas):
    assert _post(sas, _regulator("a.martin@test.example", technical="t-1")).status_code == 201
    for resource in (_regulator("a.martin@test.example", technical="t-1"),      # a replay
                     _regulator("autre@test.example", national=None, technical="t-1"),  # the same technical id
                     _regulator("autre@test.example", technical="t-2")):          # the same national id
        answer = _post(sas, resource)
        assert answer.status_code == 409 and answer.mimetype == "application/fhir+json"
        outcome = assert_operation_outcome(answer.get_json())
        assert outcome["issue"][0]["code"] == "duplicate"
    assert len(db.session.scalars(select(User).where(User.role == "regulator")).all()) == 1


def test_kit_a_put_of_an_unknown_regulator_creates_it_201(sas):
    answer = _put(sas, f"{NATIONAL}|810002673899", _regulator("b.durand@test.example"))
    assert answer.status_code == 201 and answer.headers["Location"].endswith(f"/Practitioner/{answer.get_json()['id']}")


def test_kit_an_rpps_moves_to_a_new_account_once_the_old_one_is_deactivated(sas):
    first = _post(sas, _regulator("c.petit@test.example", technical="old-id")).get_json()["id"]
    assert _put(sas, f"{TECHNICAL}|old-id", _regulator("c.petit@test.example", technical="old-id",
                                                        active=False)).status_code == 200
    # Deactivated: a new account (new technical id) may carry the same RPPS, and even the same address.
    created = _post(sas, _regulator("c.petit@test.example", technical="new-id"))
    assert created.status_code == 201
    second = created.get_json()["id"]
    assert second != first
    db.session.expire_all()
    national = db.session.scalar(select(SasRegulatorIdentifier).where(SasRegulatorIdentifier.value == "810002673899"))
    assert national.user_id == int(second)
    old, new = db.session.get(User, int(first)), db.session.get(User, int(second))
    assert (old.active, new.active, new.email) == (False, True, "c.petit@test.example")
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "sas.regulator.identifier_move"))
    # The national id now names the new account; the old one keeps only its own technical id.
    assert _put(sas, f"{NATIONAL}|810002673899", _regulator("c.petit@test.example", technical="new-id")
                ).get_json()["id"] == second
    # An active holder still makes the POST a duplicate.
    assert _post(sas, _regulator("d@test.example", technical="third-id")).status_code == 409
