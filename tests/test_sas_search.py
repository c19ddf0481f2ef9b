"""The SAS platform's slot search (INT_R01), one test per verifiable requirement of the ANS test kit
(``sas-editor-requirements.csv``, ``agg-psindiv@N``), on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from snp_service.core.timeutil import PARIS, utcnow

from .sas_world import SAS_HEADERS, assert_conforming_bundle, by_reference, configure, entries, search_url, take_part

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0[12]:00$")


@pytest.fixture
def sas(app, world):
    """A CPTS with two GPs who take part; ``search(...)`` calls as the platform does."""
    configure(app)
    with world.batch():
        cpts = world.cpts(name="CPTS Littoral", communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),))
        first = take_part(world.practitioner(cpts, last_name="Martin"))
        second = take_part(world.practitioner(cpts, last_name="Bernard"), siret=None, finess="850012345")

    class Sas:
        def __init__(self):
            self.cpts, self.first, self.second = cpts, first, second
            self.client = app.test_client()

        def search(self, rpps=None, start=None, end=None, **kwargs):
            now = _now()
            url = search_url(rpps if rpps is not None else [first.rpps, second.rpps],
                             start or now, end or now + timedelta(days=3), **kwargs)
            return self.client.get(url, headers=SAS_HEADERS)

        def bundle(self, *args, **kwargs) -> dict:
            response = self.search(*args, **kwargs)
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.mimetype == "application/fhir+json"
            return assert_conforming_bundle(response.get_json())
    return Sas()


def _now() -> datetime:
    """Now, to the next whole minute: slots are published on whole minutes, instants are sent to the ms."""
    return utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)


def _slot_ids(bundle: dict) -> list[str]:
    return [slot["id"] for slot in entries(bundle, "Slot")]


def test_agg_psindiv_4_slot_search_answers_a_searchset_bundle(sas, world):
    slot = world.slot(sas.first, _now() + timedelta(hours=2))
    bundle = sas.bundle()
    assert bundle["resourceType"] == "Bundle" and _slot_ids(bundle) == [str(slot.id)]


def test_agg_psindiv_5_no_slot_starts_before_the_window(sas, world):
    window_start = _now() + timedelta(hours=5)
    world.slot(sas.first, window_start - timedelta(minutes=15))  # ends inside the window, starts before it
    inside = world.slot(sas.first, window_start)
    bundle = sas.bundle(start=window_start, end=window_start + timedelta(days=1))
    starts = [datetime.fromisoformat(slot["start"]) for slot in entries(bundle, "Slot")]
    assert _slot_ids(bundle) == [str(inside.id)] and all(start >= window_start for start in starts)


def test_agg_psindiv_6_slots_are_filtered_to_the_practitioners_asked(sas, world):
    asked = world.slot(sas.first, _now() + timedelta(hours=2))
    world.slot(sas.second, _now() + timedelta(hours=2))
    other = take_part(world.practitioner(sas.cpts))
    world.slot(other, _now() + timedelta(hours=3))
    assert _slot_ids(sas.bundle(rpps=[sas.first.rpps])) == [str(asked.id)]


def test_agg_psindiv_7_slots_belong_to_the_window_bounds_included(sas, world):
    start = _now() + timedelta(hours=3)
    end = start + timedelta(hours=2)
    at_start, at_end = world.slot(sas.first, start), world.slot(sas.first, end)
    world.slot(sas.first, end + timedelta(minutes=15))
    world.slot(sas.second, start - timedelta(hours=1))
    assert _slot_ids(sas.bundle(start=start, end=end)) == [str(at_start.id), str(at_end.id)]


def test_agg_psindiv_8_no_free_slot_answers_an_empty_bundle(sas, world):
    world.slot(sas.first, _now() + timedelta(days=10))  # outside the window
    for bundle in (sas.bundle(), sas.bundle(rpps=["99999999999", "12345678901"])):
        assert bundle["type"] == "searchset" and bundle["total"] == 0 and "entry" not in bundle
        assert bundle["link"][0]["relation"] == "self"


def test_agg_psindiv_9_slots_declare_fr_slot_agregateur(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    slot = entries(sas.bundle(), "Slot")[0]
    assert slot["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"]
    assert {"schedule", "status", "start", "end"} <= slot.keys()


def test_agg_psindiv_10_slots_are_free_and_status_free_is_required(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    world.booking(world.slot(sas.first, _now() + timedelta(hours=3)))
    assert [slot["status"] for slot in entries(sas.bundle(), "Slot")] == ["free"]
    for status in (None, "busy", "free,busy"):
        response = sas.search(status=status)
        assert response.status_code == 400 and response.get_json()["resourceType"] == "OperationOutcome"


def test_agg_psindiv_11_slots_have_start_and_end(sas, world):
    booked = world.slot(sas.first, _now() + timedelta(hours=2), minutes=20)
    slot = entries(sas.bundle(), "Slot")[0]
    start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
    assert start == booked.start_at and end - start == timedelta(minutes=20)


def test_agg_psindiv_12_slots_reference_their_schedule(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    world.slot(sas.second, _now() + timedelta(hours=2))
    bundle = sas.bundle()
    resources = by_reference(bundle)
    for slot in entries(bundle, "Slot"):
        assert resources[slot["schedule"]["reference"]]["resourceType"] == "Schedule"


def test_agg_psindiv_13_bundle_declares_bundle_agregateur(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    for bundle in (sas.bundle(), sas.bundle(rpps=["99999999999"])):
        assert bundle["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/BundleAgregateur"]


def test_agg_psindiv_14_bundle_is_a_searchset(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    bundle = sas.bundle()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match", "include", "include", "include"]


def test_agg_psindiv_15_bundle_holds_a_practitioner(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert [p["id"] for p in entries(sas.bundle(), "Practitioner")] == [str(sas.first.id)]


def test_agg_psindiv_16_practitioner_identifier_is_national(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    identifier = entries(sas.bundle(), "Practitioner")[0]["identifier"][0]
    assert identifier["system"] == "urn:oid:1.2.250.1.71.4.2.1"
    assert identifier["type"]["coding"] == [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                             "code": "IDNPS"}]


def test_agg_psindiv_17_practitioner_identifier_is_12_digits_starting_with_8(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert re.fullmatch(r"8\d{11}", entries(sas.bundle(), "Practitioner")[0]["identifier"][0]["value"])


def test_agg_psindiv_18_practitioner_identifier_is_their_rpps(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    world.slot(sas.second, _now() + timedelta(hours=3))
    values = {p["id"]: p["identifier"][0]["value"] for p in entries(sas.bundle(), "Practitioner")}
    assert values == {str(sas.first.id): "8" + sas.first.rpps, str(sas.second.id): "8" + sas.second.rpps}


def test_agg_psindiv_19_bundle_holds_a_practitioner_role(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert [r["id"] for r in entries(sas.bundle(), "PractitionerRole")] == [str(sas.first.id)]


def test_agg_psindiv_20_practitioner_role_names_the_practice_by_finess_else_siret(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    world.slot(sas.second, _now() + timedelta(hours=3))
    roles = {r["id"]: r["organization"]["identifier"] for r in entries(sas.bundle(), "PractitionerRole")}
    assert roles[str(sas.first.id)]["value"] == "3" + sas.first.practice_siret  # SIRET, prefix 3
    assert roles[str(sas.second.id)]["value"] == "1" + sas.second.practice_finess  # FINESS, prefix 1
    for identifier in roles.values():
        assert identifier["system"] == "urn:oid:1.2.250.1.71.4.2.2"
        assert identifier["type"]["coding"][0]["code"] == "IDNST"


def test_agg_psindiv_21_practitioner_role_references_the_practitioner(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    bundle = sas.bundle()
    role = entries(bundle, "PractitionerRole")[0]
    assert by_reference(bundle)[role["practitioner"]["reference"]]["id"] == str(sas.first.id)


def test_agg_psindiv_22_practitioner_role_contains_its_location(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    role = entries(sas.bundle(), "PractitionerRole")[0]
    (location,) = role["contained"]
    assert location["resourceType"] == "Location" and role["location"] == [{"reference": f"#{location['id']}"}]
    assert location["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"]


def test_agg_psindiv_23_and_46_slot_type_is_snp_in_meta_security(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    security = entries(sas.bundle(), "Slot")[0]["meta"]["security"]
    assert security == [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
                         "code": "SNP"}]


@pytest.mark.parametrize("mode, code", [("office", "AMB"), ("home_visit", "HH"), ("teleconsultation", "VR")])
def test_agg_psindiv_24_and_48_service_type_is_the_consultation_type(sas, world, mode, code):
    world.slot(sas.first, _now() + timedelta(hours=2), mode=mode)
    service_type = entries(sas.bundle(), "Slot")[0]["serviceType"]
    assert service_type == [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}]}]


def test_agg_psindiv_25_comment_is_the_booking_link_to_the_practitioners_agenda(sas, world, app):
    world.slot(sas.first, _now() + timedelta(hours=2))
    world.slot(sas.first, _now() + timedelta(hours=4))
    links = {slot["comment"] for slot in entries(sas.bundle(), "Slot")}
    # The practitioner's agenda, not the slot: one link for both slots, naming nobody but the practitioner.
    assert links == {f"{app.config['PUBLIC_URL']}/regulation/praticien/{sas.first.id}"}


def test_agg_psindiv_26_search_by_start(sas, world):
    today = _now() + timedelta(hours=2)
    later = world.slot(sas.first, today + timedelta(days=2))
    world.slot(sas.first, today)
    assert _slot_ids(sas.bundle(start=today + timedelta(days=1), end=today + timedelta(days=3))) == [str(later.id)]


def test_agg_psindiv_27_search_by_status(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2), status="withdrawn")
    free = world.slot(sas.first, _now() + timedelta(hours=3))
    assert _slot_ids(sas.bundle(status="free")) == [str(free.id)]


def test_agg_psindiv_28_include_brings_the_schedules(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert [s["id"] for s in entries(sas.bundle(), "Schedule")] == [str(sas.first.id)]
    now = _now()
    bare = sas.client.get(search_url([sas.first.rpps], now, now + timedelta(days=1))
                          .replace("_include=Slot:schedule&", "").replace("_include:iterate=Schedule:actor&", ""),
                          headers=SAS_HEADERS).get_json()
    assert {e["resource"]["resourceType"] for e in bare["entry"]} == {"Slot"}


def test_agg_psindiv_29_search_by_practitioner_identifiers(sas, world):
    first = world.slot(sas.first, _now() + timedelta(hours=2))
    second = world.slot(sas.second, _now() + timedelta(hours=3))
    assert _slot_ids(sas.bundle(rpps=[sas.first.rpps, sas.second.rpps])) == [str(first.id), str(second.id)]
    assert _slot_ids(sas.bundle(rpps=[sas.second.rpps])) == [str(second.id)]


def test_agg_psindiv_30_include_iterate_brings_practitioner_and_role(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    now = _now()
    without = sas.client.get(search_url([sas.first.rpps], now, now + timedelta(days=1))
                             .replace("_include:iterate=Schedule:actor&", ""), headers=SAS_HEADERS).get_json()
    assert {e["resource"]["resourceType"] for e in without["entry"]} == {"Slot", "Schedule"}
    schedule = entries(sas.bundle(), "Schedule")[0]
    assert schedule["actor"] == [{"reference": f"Practitioner/{sas.first.id}"},
                                 {"reference": f"PractitionerRole/{sas.first.id}"}]


def test_agg_psindiv_31_and_32_practitioner_and_role_declare_their_profiles(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    bundle = sas.bundle()
    assert entries(bundle, "Practitioner")[0]["meta"]["profile"] == [
        "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"]
    assert entries(bundle, "PractitionerRole")[0]["meta"]["profile"] == [
        "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"]
    assert entries(bundle, "Schedule")[0]["meta"]["profile"] == [
        "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"]


def test_agg_psindiv_33_practitioner_name_is_ours(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    name = entries(sas.bundle(), "Practitioner")[0]["name"]
    assert name == [{"family": sas.first.last_name, "given": [sas.first.first_name]}]


def test_agg_psindiv_34_35_practitioner_phone_is_e164(sas, world):
    sas.first.phone = "02 51 26 45 00"
    world._save(sas.first)
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert entries(sas.bundle(), "Practitioner")[0]["telecom"] == [{"system": "phone", "value": "+33251264500"}]


def test_agg_psindiv_36_no_phone_no_telecom(sas, world):
    sas.first.phone = None
    world._save(sas.first)
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert "telecom" not in entries(sas.bundle(), "Practitioner")[0]


def test_agg_psindiv_37_to_40_location_holds_our_practice_address(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    location = entries(sas.bundle(), "PractitionerRole")[0]["contained"][0]
    assert location["address"] == {"line": [sas.first.address], "city": "Saint-Gilles-Croix-de-Vie",
                                   "postalCode": "85800"}
    assert re.fullmatch(r"[0-9]{5}", location["address"]["postalCode"])
    assert location["position"] == {"longitude": sas.first.lon, "latitude": sas.first.lat}
    assert location["identifier"][0]["type"]["coding"][0]["code"] == "INTRN"


def test_agg_psindiv_41_specialty_is_the_gps_ordinal_speciality(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    nurse = take_part(world.practitioner(sas.cpts))
    nurse.profession = "nurse"
    world._save(nurse)
    world.slot(nurse, _now() + timedelta(hours=3))
    slots = entries(sas.bundle(rpps=[sas.first.rpps, nurse.rpps]), "Slot")
    assert slots[0]["specialty"] == [{"coding": [{
        "system": "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
        "code": "SM54"}]}]
    assert "specialty" not in slots[1]  # R38 lists physicians' specialities only


def test_agg_psindiv_42_43_one_practice_many_slots_one_role_one_schedule(sas, world):
    """Our practitioners have one practice each: every slot of theirs refers to the same Schedule and Role."""
    for hours in (2, 3, 4):
        world.slot(sas.first, _now() + timedelta(hours=hours))
    bundle = sas.bundle(rpps=[sas.first.rpps])
    assert bundle["total"] == 3 and len(entries(bundle, "Slot")) == 3
    assert [len(entries(bundle, kind)) for kind in ("Schedule", "Practitioner", "PractitionerRole")] == [1, 1, 1]
    assert {slot["schedule"]["reference"] for slot in entries(bundle, "Slot")} == {f"Schedule/{sas.first.id}"}
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls))


def test_agg_psindiv_44_twenty_five_practitioners_in_one_consistent_bundle(sas, world, app):
    start = _now() + timedelta(hours=2)
    with world.batch():
        practitioners = [take_part(world.practitioner(sas.cpts)) for _ in range(25)]
        for n, practitioner in enumerate(practitioners):
            for k in range(1 + n % 3):
                world.slot(practitioner, start + timedelta(minutes=20 * k + n))
    bundle = sas.bundle(rpps=[p.rpps for p in practitioners])
    slots = entries(bundle, "Slot")
    assert bundle["total"] == len(slots) == sum(1 + n % 3 for n in range(25))
    assert [len(entries(bundle, kind)) for kind in ("Schedule", "Practitioner", "PractitionerRole")] == [25, 25, 25]
    resources = by_reference(bundle)
    assert len(resources) == len(bundle["entry"])  # no resource twice
    rpps_by_id = {str(p.id): "8" + p.rpps for p in practitioners}
    for slot in slots:
        schedule = resources[slot["schedule"]["reference"]]
        practitioner, role = (resources[actor["reference"]] for actor in schedule["actor"])
        assert resources[role["practitioner"]["reference"]] is practitioner
        assert practitioner["identifier"][0]["value"] == rpps_by_id[practitioner["id"]]
        assert slot["comment"].endswith(f"/regulation/praticien/{practitioner['id']}")
    assert app.config["PUBLIC_URL"] in bundle["entry"][0]["fullUrl"]


def test_agg_psindiv_45_start_and_end_in_the_guides_format_across_daylight_saving(sas, world):
    winter = datetime(2030, 1, 15, 14, 0, tzinfo=PARIS)
    summer = datetime(2030, 7, 15, 14, 0, tzinfo=PARIS)
    world.slot(sas.first, winter)
    world.slot(sas.first, summer)
    slots = entries(sas.bundle(start=winter - timedelta(days=1), end=winter + timedelta(days=1)), "Slot") + entries(
        sas.bundle(start=summer - timedelta(days=1), end=summer + timedelta(days=1)), "Slot")
    assert [(s["start"], s["end"]) for s in slots] == [
        ("2030-01-15T14:00:00.000+01:00", "2030-01-15T14:15:00.000+01:00"),
        ("2030-07-15T14:00:00.000+02:00", "2030-07-15T14:15:00.000+02:00")]
    assert all(INSTANT.match(s["start"]) and INSTANT.match(s["end"]) for s in slots)


def test_agg_psindiv_47_unavailabilities_are_not_sent(sas, world):
    soon = _now() + timedelta(hours=2)
    world.slot(sas.first, soon, status="withdrawn")
    world.booking(world.slot(sas.first, soon + timedelta(hours=1)))
    world.slot(sas.first, _now() - timedelta(minutes=5))  # started: no longer bookable
    free = world.slot(sas.first, soon + timedelta(hours=2))
    assert _slot_ids(sas.bundle(start=_now() - timedelta(hours=1))) == [str(free.id)]


def test_agg_psindiv_49_appointment_type_is_routine(sas, world):
    world.slot(sas.first, _now() + timedelta(hours=2))
    assert entries(sas.bundle(), "Slot")[0]["appointmentType"] == {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "ROUTINE"}]}
