"""What an implementer must produce, per profile, printed from the snapshots: `python -m tests.fhir.profile_table`.

A row is an element the profile requires (min >= 1, its parents present), narrows (max below R4's),
fixes (fixed[x], pattern[x]) or binds `required`; R4 rules on elements the profile leaves alone
(Bundle.entry.request.method, Identifier.use...) are left out. docs/sas-profiles.md carries this output.
"""
from __future__ import annotations

import json

from .package import ElementDef, Profile, load

SAS = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
SECTIONS = [
    ("Slot search, individual practitioners (INT_R01)", [
        "http://sas.fr/fhir/StructureDefinition/BundleAgregateur",
        "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur",
        "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur",
        "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur",
        "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur",
        "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur",
    ]),
    ("Slot search, CPTS variant (INT_R04): Schedule, Practitioner, PractitionerRole and Location as above", [
        SAS + "sas-cpts-bundle-aggregator",
        SAS + "sas-cpts-slot-aggregator",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
        SAS + "sas-cpts-healthcareservice-aggregator",
        SAS + "sas-cpts-organization-aggregator",
    ]),
    ("Appointments sent to the SAS (INT_R03)", ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]),
    ("Regulator accounts (INT_R02)", [SAS + "FrPractitionerRegul"]),
]
_SKIPPED_SEGMENTS = (".request", ".response", ".search", ".modifierExtension", ".link")


def _value(value) -> str:
    if isinstance(value, dict) and set(value) == {"coding"}:
        return " + ".join(f"{c.get('system')}\\|{c.get('code')}" for c in value["coding"])
    if isinstance(value, dict) and {"system", "code"} >= set(value):
        return f"{value.get('system')}\\|{value.get('code')}"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _parents_present(profile: Profile, element: ElementDef) -> bool:
    """Every ancestor is required, or constrained by the profile itself (so it is meant to be there)."""
    element_id = element.id
    while "." in element_id:
        element_id = element_id.rsplit(".", 1)[0]
        parent = profile.elements.get(element_id)
        if parent is None or parent is profile.root:
            return True
        if parent.min < 1 and parent.id not in profile.differential:
            return False
    return True


def _binding(element: ElementDef) -> str:
    if element.binding is None or element.binding[0] != "required":
        return ""
    value_set = load().value_sets.get(element.binding[1])
    if value_set is None:
        return f"{element.binding[1]} (not in the package: not checked)"
    codes = ", ".join(sorted(code for _, code in value_set.codes))
    return f"{element.binding[1].rsplit('/', 1)[1]}: {codes}"


def rows(profile: Profile) -> list[tuple[str, str, str, str]]:
    found = []
    for element in profile.elements.values():
        if element is profile.root or any(s in element.id for s in _SKIPPED_SEGMENTS):
            continue
        own = element.id in profile.differential
        narrowed = element.max is not None and (element.base_max is None or element.max < element.base_max)
        present = own or _parents_present(profile, element)
        fixed = (element.fixed or element.pattern) if present else None
        required = element.min >= 1 and present
        binding = _binding(element) if (own or required) and not fixed else ""
        if element.name in ("url", "id") and not fixed and not own:
            continue
        if not (required or fixed or binding or (own and narrowed)):
            continue
        maximum = "*" if element.max is None else str(element.max)
        shown = f"{fixed[0]} {_value(fixed[1])}" if fixed else ""
        found.append((element.id, f"{element.min}..{maximum}", shown, binding))
    return found


def markdown() -> str:
    profiles = load().profiles
    out = []
    for title, urls in SECTIONS:
        out.append(f"### {title}\n")
        for url in urls:
            profile = profiles[url]
            out.append(f"#### {profile.name} ({profile.type})\n\n`{url}`\n")
            out.append("| element | card. | fixed / pattern | required binding |\n|---|---|---|---|")
            out += [f"| `{e}` | {c} | {f} | {b} |" for e, c, f, b in rows(profile)]
            out.append("")
            own = [(e.id, c) for e in profile.elements.values() for c in e.constraints if c.source == url]
            for element_id, c in own:
                out.append(f"Invariant `{c.key}` on `{element_id}`: `{c.expression}` ({c.human})\n")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown())
