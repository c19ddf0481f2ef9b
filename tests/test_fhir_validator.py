"""The SAS validator proves itself: the package's own examples pass, broken copies fail with the expected message."""
from __future__ import annotations

import copy

import pytest

from .fhir import invariants
from .fhir.invariants import NATIVE
from .fhir_validator import (
    APPOINTMENT, BUNDLE, CPTS_BUNDLE, CPTS_HEALTHCARE_SERVICE, CPTS_ORGANIZATION, CPTS_SLOT, LOCATION,
    NOT_EVALUATED, PRACTITIONER, PRACTITIONER_REGUL, PRACTITIONER_ROLE, SCHEDULE, SLOT,
    SLOT_SERVICE_TYPE_EXTENSION, example, examples, profile, profiles_by_url, report, validate,
)

EXAMPLES = sorted(examples())


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_of_the_package_is_valid_against_its_declared_profiles(name):
    # All 41 pass. The one decision this took: an invariant whose expression yields empty passes
    # (ref-1 on PractitionerRole.organization, a Reference with only an identifier), as the IG
    # publisher's own validation of these examples (package/other/validation-oo.json) reports no error.
    resource = example(name)
    assert resource["meta"]["profile"], "every example names its profile"
    assert validate(resource) == []


def test_the_examples_cover_every_profile_the_sas_editor_answers_with():
    declared = set()
    for name in EXAMPLES:
        resource = example(name)
        for item in [resource] + [e["resource"] for e in resource.get("entry", [])]:
            declared.update(item["meta"]["profile"])
            declared.update(c["meta"]["profile"][0] for c in item.get("contained", []))
    assert {BUNDLE, SLOT, SCHEDULE, PRACTITIONER, PRACTITIONER_ROLE, LOCATION, CPTS_BUNDLE, CPTS_SLOT,
            CPTS_HEALTHCARE_SERVICE, CPTS_ORGANIZATION, APPOINTMENT, PRACTITIONER_REGUL} <= declared


def test_profiles_are_named_by_their_canonical_url_or_their_name():
    urls = profiles_by_url()
    assert urls[SLOT].type == "Slot" and urls[CPTS_SLOT].type == "Slot"
    assert urls[SLOT_SERVICE_TYPE_EXTENSION].type == "Extension"
    assert profile("FrSlotAgregateur") is urls[SLOT]
    assert profile("sas-cpts-bundle-aggregator") is urls[CPTS_BUNDLE]
    with pytest.raises(KeyError):
        profile("FrSlot")


def _slot(name="Slot-ExampleSlotPSIndiv1.json"):
    return example(name)


def _psindiv():
    return example("Bundle-ExampleBundlePSIndiv.json")


def _cpts():
    return example("Bundle-ExampleBundleCPTS.json")


def _without(resource, *path):
    *parents, last = path
    node = resource
    for key in parents:
        node = node[key]
    del node[last]
    return resource


def _set(resource, path, value):
    *parents, last = path
    node = resource
    for key in parents:
        node = node[key]
    if isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    return resource


# (what is broken, the broken copy, a message the validator must give)
BROKEN = {
    # cardinality: min
    "Slot.schedule removed (min 1)": (
        lambda: _without(_slot(), "schedule"), "Slot.schedule: minimum cardinality 1, found 0 [FrSlotAgregateur]"),
    "Slot.start removed in a Bundle (min 1)": (
        lambda: _without(_psindiv(), "entry", 0, "resource", "start"),
        "Bundle.entry[0].resource(Slot).start: minimum cardinality 1, found 0"),
    "Practitioner.identifier removed (min 1)": (
        lambda: _without(example("Practitioner-ExamplePractitioner2.json"), "identifier"),
        "Practitioner.identifier: minimum cardinality 1, found 0"),
    "PractitionerRole without its contained Location (min 1)": (
        lambda: _without(example("PractitionerRole-ExamplePractitionerRoleAgregateur2.json"), "contained"),
        "PractitionerRole.contained: minimum cardinality 1, found 0"),
    "contained Location without postal code (min 1)": (
        lambda: _without(_psindiv(), "entry", 3, "resource", "contained", 0, "address", "postalCode"),
        "Bundle.entry[3].resource(PractitionerRole).contained[0](Location).address.postalCode: "
        "minimum cardinality 1, found 0 [FrLocationAgregateur]"),
    "CPTS Bundle without a Practitioner entry (slice min 1)": (
        lambda: _set(_cpts(), ["entry"], [e for e in _cpts()["entry"] if e["resource"]["resourceType"] != "Practitioner"]),
        "Bundle.entry:practitionerAgregateur: minimum cardinality 1, found 0 [BundleAgregateurCPTS]"),
    "CPTS entry without fullUrl (min 1 in the slice)": (
        lambda: _without(_cpts(), "entry", 0, "fullUrl"),
        "Bundle.entry[0].fullUrl: minimum cardinality 1, found 0 [BundleAgregateurCPTS]"),
    "Appointment without the operator extension (slice min 1)": (
        lambda: _without(example("Appointment-1.json"), "extension"),
        "Appointment.extension:appointmentOperator: minimum cardinality 1, found 0"),
    "regulator without active (min 1)": (
        lambda: _without(example("Practitioner-ExamplePractitionerRegul1.json"), "active"),
        "Practitioner.active: minimum cardinality 1, found 0 [FrPractitionerRegul]"),
    # cardinality: max
    "Appointment with two identifiers (max 1)": (
        lambda: _set(example("Appointment-1.json"), ["identifier", 1], {"system": "urn:oid:1.2.3", "value": "x"}),
        "Appointment.identifier: maximum cardinality 1, found 2"),
    "PractitionerRole with two locations (max 1)": (
        lambda: _set(_psindiv(), ["entry", 3, "resource", "location", 1], {"reference": "#ExampleLocation3"}),
        "Bundle.entry[3].resource(PractitionerRole).location: maximum cardinality 1, found 2"),
    "regulator with two given names (max 1)": (
        lambda: _set(example("Practitioner-ExamplePractitionerRegul1.json"), ["name", 0, "given", 1], "Paul"),
        "Practitioner.name[0].given: maximum cardinality 1, found 2"),
    "nested extension in the operator extension (max 0)": (
        lambda: _set(example("Appointment-1.json"), ["extension", 0, "extension"], [{"url": "x", "valueString": "y"}]),
        "Appointment.extension[0].extension: is not allowed (max 0), found 1"),
    # fixed and pattern values
    "Slot.status busy (fixedCode free)": (
        lambda: _set(_slot(), ["status"], "busy"), "Slot.status: must be exactly 'free' (fixedCode), found 'busy'"),
    "Bundle.type collection (patternCode searchset)": (
        lambda: _set(_psindiv(), ["type"], "collection"),
        "Bundle.type: must match patternCode 'searchset', found 'collection' [BundleAgregateur]"),
    "RPPS identifier under another system (patternUri)": (
        lambda: _set(_psindiv(), ["entry", 2, "resource", "identifier", 0, "system"], "urn:oid:1.2.250.1.71.4.2.2"),
        "Bundle.entry[2].resource(Practitioner).identifier[0].system: must match patternUri "
        "'urn:oid:1.2.250.1.71.4.2.1'"),
    "RPPS identifier typed INTRN (patternCodeableConcept)": (
        lambda: _set(_psindiv(), ["entry", 2, "resource", "identifier", 0, "type", "coding", 0, "code"], "INTRN"),
        "Bundle.entry[2].resource(Practitioner).identifier[0].type: must match patternCodeableConcept"),
    "CPTS FINESS under another system (patternUri)": (
        lambda: _set(example("Organization-ExampleOrgaCPTS1.json"), ["identifier", 0, "system"], "urn:oid:1.2.250.1.71.4.2.1"),
        "Organization.identifier[0].system: must match patternUri 'urn:oid:1.2.250.1.71.4.2.2'"),
    "extension url changed (fixedUri)": (
        lambda: _set(example("Appointment-1.json"), ["extension", 0, "url"], "http://example.org/operator"),
        "Appointment.extension:appointmentOperator: minimum cardinality 1, found 0"),
    # required bindings to the package's ValueSets (and R4 core code lists)
    "CPTS Slot meta.security code outside sas-cpts-valueset-typecreneau": (
        lambda: _set(_slot("Slot-ExampleSlotCPTS1.json"), ["meta", "security", 1, "code"], "SOS"),
        "Slot.meta.security[1]: https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau|SOS "
        "is not in the required ValueSet https://interop.esante.gouv.fr/ig/fhir/sas/ValueSet/sas-cpts-valueset-typecreneau"),
    "CPTS Slot appointmentType outside sas-valueset-appointmentreason": (
        lambda: _set(_slot("Slot-ExampleSlotCPTS1.json"), ["appointmentType", "coding", 0, "code"], "EMERGENCY"),
        "Slot.appointmentType.coding[0]: http://terminology.hl7.org/CodeSystem/v2-0276|EMERGENCY is not in the "
        "required ValueSet https://interop.esante.gouv.fr/ig/fhir/sas/ValueSet/sas-valueset-appointmentreason"),
    "Slot serviceType v3-ActCode code outside v3-ActEncounterCode": (
        lambda: _set(_psindiv(), ["entry", 0, "resource", "serviceType", 0, "coding", 0, "code"], "VISIT"),
        "Bundle.entry[0].resource(Slot).serviceType[0]: http://terminology.hl7.org/CodeSystem/v3-ActCode|VISIT is not "
        "in the required ValueSet http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"),
    "Appointment status outside appointmentstatus (R4)": (
        lambda: _set(example("Appointment-1.json"), ["status"], "done"),
        "Appointment.status: 'done' is not in the required ValueSet http://hl7.org/fhir/ValueSet/appointmentstatus"),
    "search mode outside search-entry-mode (R4)": (
        lambda: _set(_psindiv(), ["entry", 0, "search"], {"mode": "matched"}),
        "Bundle.entry[0].search.mode: 'matched' is not in the required ValueSet http://hl7.org/fhir/ValueSet/search-entry-mode"),
    # invariants (fhirpathpy)
    "CPTS FINESS not prefixed by 1 (FINESS-invariant)": (
        lambda: _set(example("Organization-ExampleOrgaCPTS1.json"), ["identifier", 0, "value"], "2950047225"),
        "Organization.identifier[0]: invariant FINESS-invariant failed: Le numéro FINESS doit être préfixé par 1"),
    "Appointment with start but no end (app-2)": (
        lambda: _without(example("Appointment-2.json"), "end"),
        "Appointment: invariant app-2 failed: Either start and end are specified, or neither"),
    "search entries in a Bundle that is no searchset (bdl-2)": (
        lambda: _set(_set(_psindiv(), ["type"], "collection"), ["entry", 0, "search"], {"mode": "match"}),
        "Bundle: invariant bdl-2 failed: entry.search only when a search"),
    "period ending before it starts (per-1)": (
        lambda: _set(_slot(), ["identifier"], [{"system": "urn:x", "value": "1",
                                                "period": {"start": "2026-02-01", "end": "2026-01-01"}}]),
        "Slot.identifier[0].period: invariant per-1 failed: If present, start SHALL have a lower value than end"),
    "extension with neither value nor extensions (ext-1)": (
        lambda: _set(_slot(), ["extension"], [{"url": "http://example.org/x"}]),
        "Slot.extension[0]: invariant ext-1 failed: Must have either extensions or value[x], not both"),
    "empty element (ele-1)": (
        lambda: _set(_slot(), ["appointmentType"], {}),
        "Slot.appointmentType: invariant ele-1 failed: All FHIR elements must have a @value or children"),
    # references inside a Bundle
    "Slot pointing to a Schedule not in the Bundle": (
        lambda: _set(_psindiv(), ["entry", 0, "resource", "schedule", "reference"], "Schedule/ExampleSchedule9"),
        "Bundle.entry[0].resource(Slot).schedule.reference: 'Schedule/ExampleSchedule9' matches no entry of the Bundle"),
    "Schedule actor pointing to a Practitioner not in the Bundle": (
        lambda: _set(_cpts(), ["entry", 1, "resource", "actor", 0, "reference"], "Practitioner/Nobody"),
        "Bundle.entry[1].resource(Schedule).actor[0].reference: 'Practitioner/Nobody' matches no entry of the Bundle"),
    "location pointing to no contained resource": (
        lambda: _set(_psindiv(), ["entry", 3, "resource", "location", 0, "reference"], "#ExampleLocation9"),
        "Bundle.entry[3].resource(PractitionerRole).location[0].reference: '#ExampleLocation9' matches no contained resource"),
    "contained Location that nothing references (dom-3)": (
        lambda: _set(example("PractitionerRole-ExamplePractitionerRoleAgregateur2.json"), ["location"], [{"display": "cabinet"}]),
        "PractitionerRole.contained[0]: contained resource #ExampleLocation3 is not referenced from its container (dom-3)"),
    "two entries with the same fullUrl": (
        lambda: _set(_psindiv(), ["entry", 4, "fullUrl"], _psindiv()["entry"][0]["fullUrl"]),
        "Bundle.entry[4].fullUrl: 'https://exemple.com/ans-sas/Slot/ExampleSlotPSIndiv1' already used by entry[0]"),
    "Slot.schedule pointing to a Practitioner (targetProfile)": (
        lambda: _set(_slot(), ["schedule", "reference"], "Practitioner/ExamplePractitioner2"),
        "Slot.schedule.reference: 'Practitioner/ExamplePractitioner2' points to a Practitioner, allowed: Schedule"),
    "PractitionerRole.location to a Location outside (aggregation contained)": (
        lambda: _set(_psindiv(), ["entry", 3, "resource", "location", 0, "reference"], "Location/ExampleLocation3"),
        "Bundle.entry[3].resource(PractitionerRole).location[0].reference: 'Location/ExampleLocation3' "
        "must point to a contained resource (aggregation: contained)"),
    # primitive formats and JSON shape
    "instant without offset": (
        lambda: _set(_psindiv(), ["entry", 0, "resource", "start"], "2026-12-01T10:00:00"),
        "Bundle.entry[0].resource(Slot).start: '2026-12-01T10:00:00' is not a valid instant"),
    "instant on a day that does not exist": (
        lambda: _set(_slot(), ["end"], "2026-02-30T10:00:00.000+01:00"), "Slot.end: '2026-02-30T10:00:00.000+01:00' "
        "is not a valid instant: no such day"),
    "code with a double space": (
        lambda: _set(_psindiv(), ["entry", 0, "resource", "serviceType", 0, "coding", 0, "code"], "A  B"),
        "Bundle.entry[0].resource(Slot).serviceType[0].coding[0].code: 'A  B' is not a valid code"),
    "boolean as a string": (
        lambda: _set(example("Practitioner-ExamplePractitionerRegul1.json"), ["active"], "true"),
        "Practitioner.active: 'true' is not a JSON boolean"),
    "uri with a space (in an element no snapshot expands)": (
        lambda: _set(_psindiv(), ["link", 0, "url"], "https://exemple.com/a b"),
        "Bundle.link[0].url: 'https://exemple.com/a b' is not a valid uri"),
    "id too long": (
        lambda: _set(_slot(), ["id"], "x" * 65), "Slot.id: '" + "x" * 65 + "' is not a valid id"),
    "empty string": (
        lambda: _set(_slot(), ["comment"], ""), "Slot.comment: '' is not a valid string"),
    "empty array": (
        lambda: _set(_set(_psindiv(), ["entry"], []), ["total"], 0),
        "Bundle.entry: is an empty JSON array (R4 JSON omits an element without values)"),
    "Slot.serviceType not an array": (
        lambda: _set(_slot(), ["serviceType"], _slot()["serviceType"][0]), "Slot.serviceType: must be a JSON array"),
    "unknown element": (
        lambda: _set(_slot(), ["colour"], "red"), "Slot.colour: unknown element (not in the profile)"),
    "unknown element inside a Reference": (
        lambda: _set(_slot(), ["schedule", "ref"], "Schedule/x"), "Slot.schedule.ref: unknown element (not in the R4 Reference)"),
    "unknown element in a primitive's extension part": (
        lambda: _set(_slot(), ["_comment"], {"colour": "red"}), "Slot._comment.colour: unknown element (not in the R4 Element)"),
    "extension value of a type the slice does not allow": (
        lambda: _set(example("Appointment-1.json"), ["extension", 0], {
            "url": "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator", "valueString": "x"}),
        "Appointment.extension[0].valueString: type string is not allowed here (allowed: Reference)"),
    # a Slot entry without meta.profile is still held to the profile its Bundle slice names
    "Slot entry without meta.profile nor start": (
        lambda: _without(_without(_psindiv(), "entry", 0, "resource", "meta", "profile"), "entry", 0, "resource", "start"),
        "Bundle.entry[0].resource(Slot).start: minimum cardinality 1, found 0 [FrSlotAgregateur]"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_copy_of_an_example_fails_with_the_expected_message(case):
    broken, expected = BROKEN[case]
    errors = validate(broken())
    assert any(expected in e for e in errors), f"expected {expected!r} in {errors}"


def test_a_resource_without_a_package_profile_is_refused_unless_one_is_named():
    slot = _slot()
    del slot["meta"]["profile"]
    assert validate(slot) == ["Slot: declares no profile of the SAS package in meta.profile (pass profile= to name one)"]
    assert validate(slot, SLOT) == []
    assert validate(slot, "FrSlotAgregateur") == []
    assert validate(slot, BUNDLE) == ["Slot: is a Slot, the profile is for Bundle [BundleAgregateur]"]


def test_a_named_profile_is_checked_even_where_the_resource_declares_another():
    # meta.security is bound to PUBLIC/PRO/SNP on the individual Slot (the ANS list the guide enumerates)
    # and to PUBLIC/PRO/SNP/CPTS on the CPTS Slot: a CPTS slot type is refused by the first only.
    slot = _set(_slot(), ["meta", "security", 0, "code"], "CPTS")
    assert validate(slot) == [
        "Slot.meta.security[0]: https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau|CPTS "
        "is not in the required ValueSet https://mos.esante.gouv.fr/NOS/JDV_J165-TypeCreneau-SAS/FHIR/"
        "JDV-J165-TypeCreneau-SAS [FrSlotAgregateur]"]
    slot["meta"]["profile"] = [CPTS_SLOT]
    assert validate(slot) == []


def test_open_slicing_lets_other_service_types_through():
    # serviceType is sliced by coding.system (open): a coding of another system is no TypeConsultation
    # and is valid; the v3-ActCode pattern of the slice can never fail, it is the discriminator.
    slot = _set(_slot(), ["serviceType", 0, "coding", 0, "system"], "http://snomed.info/sct")
    assert validate(slot) == []


def test_the_report_says_what_it_did_not_check():
    notes = report(_psindiv()).notes
    assert not any("JDV-J165-TypeCreneau-SAS" in n for n in notes)
    assert any("fr-practitioner-specialty is not in the package" in n for n in notes)
    assert any(n.startswith("invariant dom-3 not evaluated") for n in notes)
    assert set(NOT_EVALUATED) == {"dom-3"}


def _nodes(value, type_path):
    """Every element of an example as (value, R4 type or backbone path), for the equivalence check."""
    from .fhir.walker import _model_type

    if isinstance(value, dict):
        yield value, type_path
        for key, child in value.items():
            if key == "resourceType" or key.startswith("_"):
                continue
            child_type = _model_type(type_path, key)
            if child_type in ("Resource",) or (isinstance(child, dict) and "resourceType" in child):
                items = child if isinstance(child, list) else [child]
                for item in items:
                    yield from _nodes(item, item["resourceType"])
                continue
            for item in child if isinstance(child, list) else [child]:
                yield from _nodes(item, child_type)
    elif value is not None:
        yield value, type_path


ELE_1 = "hasValue() or (children().count() > id.count())"
EXT_1 = "extension.exists() != value.exists()"


def test_the_native_ele_1_and_ext_1_agree_with_fhirpathpy():
    checked = 0
    crafted = [({}, "Coding"), ({"id": "a"}, "Coding"), ({"extension": []}, "Period"),
               ({"url": "http://x"}, "Extension"), ({"url": "http://x", "valueString": "v"}, "Extension"),
               ({"url": "http://x", "valueString": "v", "extension": [{"url": "y", "valueCode": "c"}]}, "Extension"),
               ({"url": "http://x", "extension": [{"url": "y", "valueCode": "c"}]}, "Extension")]
    for name in EXAMPLES:
        resource = example(name)
        for value, type_path in list(_nodes(resource, resource["resourceType"])) + crafted:
            for expression in (ELE_1, EXT_1) if type_path == "Extension" else (ELE_1,):
                expected = invariants.evaluate(expression, copy.deepcopy(value), type_path, resource, resource)
                assert NATIVE[expression](value) == (expected == [True]), (name, expression, value)
                checked += 1
    assert checked > 1500


def test_docs_sas_profiles_carries_the_table_the_snapshots_give():
    from pathlib import Path

    from .fhir.profile_table import markdown

    doc = (Path(__file__).parent.parent / "docs" / "sas-profiles.md").read_text()
    assert markdown() in doc, "regenerate the tables: python -m tests.fhir.profile_table"
