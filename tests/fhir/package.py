"""The ANS SAS FHIR package (ans.fhir.fr.sas 1.1.0), read once per process from the .tgz beside this file.

StructureDefinition snapshots become trees of `ElementDef` (children by name, slices under the sliced
element), ValueSets become sets of (system, code). The package ships no CodeSystem and none of its
dependencies (hl7.fhir.r4.core, hl7.fhir.fr.core, ans.fr.nos): `codes_outside_package.json` carries the
few small, frozen code lists that the snapshots bind with strength `required` (FHIR R4's, and the ANS
slot types the guide enumerates); any other ValueSet is reported as not checked.
"""
from __future__ import annotations

import copy
import json
import tarfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PACKAGE_TGZ = HERE / "ans.fhir.fr.sas-1.1.0.tgz"
CODES_OUTSIDE = HERE / "codes_outside_package.json"

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


@dataclass(frozen=True)
class TypeRef:
    code: str  # a FHIR type: "string", "uri", "Reference", "Slot", "Resource", "BackboneElement"...
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()
    aggregation: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str
    source: str = ""  # the profile that wrote it (R4 core ones name an R4 StructureDefinition)


@dataclass(eq=False)
class ElementDef:
    id: str
    path: str
    min: int
    max: int | None  # None: unbounded
    base_max: int | None  # the R4 base cardinality decides the JSON shape (array or not)
    types: tuple[TypeRef, ...]
    fixed: tuple[str, Any] | None  # ("fixedUri", "http://...")
    pattern: tuple[str, Any] | None
    binding: tuple[str, str] | None  # (strength, ValueSet canonical without |version)
    constraints: tuple[Constraint, ...]
    slicing: dict | None
    slice_name: str | None
    content_reference: str | None
    max_length: int | None
    profile: "Profile" = field(repr=False, default=None)
    children: dict[str, "ElementDef"] = field(default_factory=dict, repr=False)
    slices: list["ElementDef"] = field(default_factory=list, repr=False)
    sliced: "ElementDef | None" = field(default=None, repr=False)  # for a slice: the element it slices

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def label(self) -> str:
        """The element as the guide names it: `Slot.serviceType:TypeConsultation.coding.system`."""
        return self.id

    def effective_children(self) -> dict[str, "ElementDef"]:
        """A slice without children of its own in the snapshot has those of the element it slices."""
        if self.children:
            return self.children
        if self.content_reference:
            target = self.profile.elements.get(self.content_reference.split("#", 1)[1])
            if target is not None:
                return target.children
        if self.sliced is not None:
            return self.sliced.effective_children()
        return {}


@dataclass(eq=False)
class Profile:
    url: str
    name: str
    title: str
    type: str
    kind: str
    root: ElementDef = field(default=None, repr=False)
    elements: dict[str, ElementDef] = field(default_factory=dict, repr=False)
    differential: frozenset[str] = frozenset()  # ids of the elements the profile itself constrains


@dataclass(frozen=True)
class ValueSet:
    url: str
    codes: frozenset[tuple[str, str]]
    missing: tuple[str, ...]  # what could not be expanded (a CodeSystem or ValueSet not shipped)
    source: str  # "package", "r4" or "guide" (see codes_outside_package.json)

    def contains(self, system: str | None, code: str | None) -> bool:
        return (system, code) in self.codes

    def contains_code(self, code: str | None) -> bool:
        return any(c == code for _, c in self.codes)


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)


def _type_code(type_json: dict) -> str:
    code = type_json["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in type_json.get("extension", []):
            if ext.get("url") == FHIR_TYPE_EXT:
                return ext["valueUrl"]
        return "string"
    return code


def _element(raw: dict, profile: Profile) -> ElementDef:
    fixed = next(((k, v) for k, v in raw.items() if k.startswith("fixed")), None)
    pattern = next(((k, v) for k, v in raw.items() if k.startswith("pattern")), None)
    binding = None
    if raw.get("binding", {}).get("valueSet"):
        binding = (raw["binding"]["strength"], raw["binding"]["valueSet"].split("|", 1)[0])
    return ElementDef(
        id=raw["id"],
        path=raw["path"],
        min=raw.get("min", 0),
        max=_max(raw.get("max")),
        base_max=_max(raw.get("base", {}).get("max", raw.get("max"))),
        types=tuple(
            TypeRef(
                code=_type_code(t),
                profiles=tuple(t.get("profile", ())),
                target_profiles=tuple(t.get("targetProfile", ())),
                aggregation=tuple(t.get("aggregation", ())),
            )
            for t in raw.get("type", ())
        ),
        fixed=fixed,
        pattern=pattern,
        binding=binding,
        constraints=tuple(
            Constraint(c["key"], c.get("severity", "error"), c.get("human", ""), c["expression"], c.get("source", ""))
            for c in raw.get("constraint", ())
            if c.get("expression")
        ),
        slicing=raw.get("slicing"),
        slice_name=raw.get("sliceName"),
        content_reference=raw.get("contentReference"),
        max_length=raw.get("maxLength"),
        profile=profile,
    )


def _parent_and_slice(element_id: str) -> tuple[str | None, str, str | None]:
    """`Slot.serviceType:TC.coding` -> ("Slot.serviceType:TC", "coding", None);
    `Slot.serviceType:TC` -> ("Slot", "serviceType", "TC")."""
    if "." not in element_id:
        return None, element_id, None
    parent, last = element_id.rsplit(".", 1)
    name, _, slice_name = last.partition(":")
    return parent, name, slice_name or None


def build_profile(sd: dict) -> Profile:
    profile = Profile(sd["url"], sd["name"], sd.get("title", sd["name"]), sd["type"], sd["kind"],
                      differential=frozenset(e["id"] for e in sd.get("differential", {}).get("element", [])))
    for raw in sd["snapshot"]["element"]:
        element = _element(raw, profile)
        profile.elements[element.id] = element
        parent_id, name, slice_name = _parent_and_slice(element.id)
        if parent_id is None:
            profile.root = element
            continue
        if slice_name is not None:
            sliced = profile.elements[f"{parent_id}.{name}"]
            element.sliced = sliced
            sliced.slices.append(element)
        else:
            profile.elements[parent_id].children[name] = element
    return profile


def _expand(vs: dict, all_vs: dict[str, dict], seen: frozenset = frozenset()) -> tuple[set, list]:
    codes: set[tuple[str, str]] = set()
    missing: list[str] = []
    compose = vs.get("compose", {})
    for include in compose.get("include", []):
        system = include.get("system")
        if include.get("filter"):
            missing.append(f"filter on {system}")
        elif include.get("concept"):
            codes.update((system, c["code"]) for c in include["concept"])
        elif system:
            missing.append(f"every code of CodeSystem {system} (not in the package)")
        for url in include.get("valueSet", []):
            url = url.split("|", 1)[0]
            if url in all_vs and url not in seen:
                more, gaps = _expand(all_vs[url], all_vs, seen | {url})
                codes |= more
                missing += gaps
            else:
                missing.append(f"ValueSet {url} (not in the package)")
    for exclude in compose.get("exclude", []):
        codes -= {(exclude.get("system"), c["code"]) for c in exclude.get("concept", [])}
    return codes, missing


@dataclass
class Package:
    profiles: dict[str, Profile]
    value_sets: dict[str, ValueSet]
    examples: dict[str, dict]  # file name in package/example/ -> resource
    version: str


@cache
def load() -> Package:
    sds, vss, examples = [], {}, {}
    manifest = {}
    with tarfile.open(PACKAGE_TGZ, "r:gz") as tgz:
        for member in tgz.getmembers():
            name = member.name
            if not (member.isfile() and name.endswith(".json")):
                continue
            if name.startswith("package/example/"):
                examples[name.rsplit("/", 1)[1]] = json.load(tgz.extractfile(member))
            elif name.startswith("package/StructureDefinition-"):
                sds.append(json.load(tgz.extractfile(member)))
            elif name.startswith("package/ValueSet-"):
                vs = json.load(tgz.extractfile(member))
                vss[vs["url"]] = vs
            elif name == "package/package.json":
                manifest = json.load(tgz.extractfile(member))
    value_sets = {}
    for url, vs in vss.items():
        codes, missing = _expand(vs, vss)
        value_sets[url] = ValueSet(url, frozenset(codes), tuple(missing), "package")
    for url, entry in json.loads(CODES_OUTSIDE.read_text())["valueSets"].items():
        codes = frozenset((entry["system"], code) for code in entry["codes"])
        value_sets.setdefault(url, ValueSet(url, codes, (), entry["source"]))
    profiles = {sd["url"]: build_profile(sd) for sd in sds}
    return Package(profiles, value_sets, examples, manifest.get("version", "?"))


def example(file_name: str) -> dict:
    """A fresh copy of one of the package's examples (tests break their copy freely)."""
    return copy.deepcopy(load().examples[file_name])
