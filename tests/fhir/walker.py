"""Walk a resource against a profile's snapshot: cardinalities, slices, types, fixed/pattern, bindings, invariants.

Elements the snapshot does not expand (a Reference, a Period...) and resources without a profile of the
package are walked on the R4 model that fhirpathpy ships (element names and types, no cardinalities):
unknown elements and malformed primitives are found there too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import zip_longest

from . import invariants, primitives
from .package import Constraint, ElementDef, Profile, TypeRef, load
from .slicing import assign_slices

PATH2TYPE = invariants.R4["path2Type"]
CHOICES = invariants.R4["choiceTypePaths"]
ELSEWHERE = invariants.R4["pathsDefinedElsewhere"]
RESOURCE_TYPES = frozenset(
    t for t, parent in invariants.R4["type2Parent"].items() if parent in ("DomainResource", "Resource")
) - {"DomainResource"}
# Backbone elements have no entry of their own in path2Type, only their children do.
BACKBONES = frozenset(p.rsplit(".", 1)[0] for p in PATH2TYPE if p.count(".") > 1)


@dataclass
class Run:
    errors: list[str] = field(default_factory=list)
    notes: dict[str, None] = field(default_factory=dict)  # ordered set

    def error(self, path: str, message: str, ctx: "Ctx | None" = None) -> None:
        where = f" [{ctx.profile}]" if ctx is not None and ctx.profile else ""
        self.errors.append(f"{path}: {message}{where}")

    def note(self, message: str) -> None:
        self.notes[message] = None


@dataclass(frozen=True)
class Ctx:
    resource: dict  # %resource of the invariants
    root: dict  # %rootResource: the container of a contained resource, else the resource itself
    profile: str = ""


def type_name(choice_suffix: str) -> str:
    lowered = choice_suffix[:1].lower() + choice_suffix[1:]
    return lowered if primitives.is_primitive(lowered) else choice_suffix


def declared_profiles(run: Run, resource: dict) -> list[Profile]:
    profiles = load().profiles
    found = []
    for url in (resource.get("meta") or {}).get("profile") or []:
        if url in profiles:
            found.append(profiles[url])
        else:
            run.note(f"meta.profile {url} is not a profile of the package: not checked")
    return found


def validate_resource(run: Run, resource, path: str, profiles: list[Profile] | None, root=None) -> None:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        run.error(path, "is not a resource (a JSON object with a resourceType)")
        return
    resource_type = resource["resourceType"]
    if resource_type not in RESOURCE_TYPES:
        run.error(path, f"unknown resourceType {resource_type!r}")
        return
    if profiles is None:
        profiles = declared_profiles(run, resource)
    unique = list({p.url: p for p in profiles}.values())
    if not unique:
        walk_model(run, resource_type, resource, path, Ctx(resource, root or resource))
        return
    for profile in unique:
        ctx = Ctx(resource, root or resource, profile.name)
        if profile.type != resource_type:
            run.error(path, f"is a {resource_type}, the profile is for {profile.type}", ctx)
            continue
        walk_children(run, profile.root.effective_children(), resource, path, ctx, resource_level=True)
        check_constraints(run, profile.root.constraints, resource, resource_type, path, ctx)


def walk_children(run: Run, children: dict[str, ElementDef], obj: dict, path: str, ctx: Ctx,
                  resource_level: bool = False) -> None:
    used = {"resourceType"} if resource_level else set()
    for name, child in children.items():
        occurrences, is_array = _collect(run, child, obj, path, used, ctx)
        if occurrences and is_array != (child.base_max is None or child.base_max > 1):
            key = occurrences[0][3]
            run.error(f"{path}.{key}", "must be a JSON array" if not is_array else "must not be a JSON array", ctx)
        chosen = [child] * len(occurrences)
        if child.slicing and child.slices:
            chosen = assign_slices(run, child, occurrences, path, ctx)
        _cardinality(run, child, len(occurrences), f"{path}.{name}", ctx)
        for i, ((value, ext, tref, key), element) in enumerate(zip(occurrences, chosen)):
            where = f"{path}.{key}[{i}]" if is_array else f"{path}.{key}"
            check_value(run, element, value, ext, where, ctx, tref)
    for key in obj:
        if key not in used:
            run.error(f"{path}.{key}", "unknown element (not in the profile)", ctx)


def _cardinality(run: Run, element: ElementDef, count: int, where: str, ctx: Ctx) -> None:
    if count < element.min:
        run.error(where, f"minimum cardinality {element.min}, found {count}", ctx)
    if element.max is not None and count > element.max:
        what = "is not allowed (max 0)" if element.max == 0 else f"maximum cardinality {element.max}"
        run.error(where, f"{what}, found {count}", ctx)


def _collect(run: Run, child: ElementDef, obj: dict, path: str, used: set, ctx: Ctx):
    """The child's occurrences in `obj`: [(value, primitive extension, type, JSON key)], is it an array."""
    name = child.name
    if name.endswith("[x]"):
        base = name[:-3]
        allowed = {t.code[:1].upper() + t.code[1:]: t for t in child.types}
        keys = [k for k in obj if k.lstrip("_").startswith(base) and k.lstrip("_")[len(base):][:1].isupper()]
        if not keys:
            return [], False
        key = keys[0].lstrip("_")
        suffix = key[len(base):]
        if suffix not in allowed:
            used.update(keys)
            run.error(f"{path}.{key}", f"type {type_name(suffix)} is not allowed here "
                      f"(allowed: {', '.join(t.code for t in child.types)})", ctx)
            return [], False
        tref = allowed[suffix]
    else:
        key = name
        tref = child.types[0] if child.types else TypeRef("BackboneElement")
    used.update((key, "_" + key))
    raw, ext = obj.get(key), obj.get("_" + key)
    if raw == [] or ext == []:
        run.error(f"{path}.{key}", "is an empty JSON array (R4 JSON omits an element without values)", ctx)
    if raw is None and ext is None:
        return [], False
    is_array = isinstance(raw, list) or isinstance(ext, list)
    if is_array:
        pairs = zip_longest(raw if isinstance(raw, list) else [raw], ext if isinstance(ext, list) else [ext])
        return [(v, e, tref, key) for v, e in pairs if v is not None or e is not None], True
    return [(raw, ext, tref, key)], False


def check_value(run: Run, element: ElementDef, value, ext, path: str, ctx: Ctx, tref: TypeRef) -> None:
    code = tref.code
    if primitives.is_primitive(code):
        if value is not None:
            problem = primitives.check(code, value)
            if problem:
                run.error(path, problem, ctx)
            elif element.max_length and len(value) > element.max_length:
                run.error(path, f"longer than {element.max_length} characters", ctx)
        if ext is not None:
            head, _, tail = path.rpartition(".")
            walk_model(run, "Element", ext, f"{head}._{tail}", ctx)
        check_fixed_pattern(run, element, value, path, ctx)
        check_binding(run, element, value, code, path, ctx)
        check_constraints(run, element.constraints, value, code, path, ctx)
        return
    if not isinstance(value, dict):
        run.error(path, f"must be a JSON object ({code})", ctx)
        return
    if code in RESOURCE_TYPES or code == "Resource":
        _nested_resource(run, element, value, path, ctx, tref)
        return
    check_fixed_pattern(run, element, value, path, ctx)
    check_binding(run, element, value, code, path, ctx)
    if code == "Reference":
        check_reference_target(run, value, tref, path, ctx)
    type_path = element.path if code in ("BackboneElement", "Element") else code
    check_constraints(run, element.constraints, value, type_path, path, ctx)
    children = element.effective_children()
    if not children and tref.profiles:
        profile = load().profiles.get(tref.profiles[0])
        if profile is not None:
            children = profile.root.effective_children()
            check_constraints(run, profile.root.constraints, value, code, path, Ctx(ctx.resource, ctx.root, profile.name))
    if children:
        walk_children(run, children, value, path, ctx)
    else:
        walk_model(run, type_path, value, path, ctx)


def _nested_resource(run: Run, element: ElementDef, value: dict, path: str, ctx: Ctx, tref: TypeRef) -> None:
    resource_type = value.get("resourceType")
    if tref.code != "Resource" and resource_type != tref.code:
        run.error(path, f"must be a {tref.code}, found {resource_type!r}", ctx)
        return
    known = load().profiles
    profiles = declared_profiles(run, value) + [known[u] for u in tref.profiles if u in known]
    contained = element.path.endswith(".contained")
    where = f"{path}({resource_type})"
    if not profiles:
        run.note(f"{element.id}: a {resource_type} with no profile of the package: checked on the R4 model only")
    validate_resource(run, value, where, profiles, root=ctx.root if contained else value)


def check_fixed_pattern(run: Run, element: ElementDef, value, path: str, ctx: Ctx) -> None:
    if element.fixed is not None and value != element.fixed[1]:
        run.error(path, f"must be exactly {element.fixed[1]!r} ({element.fixed[0]}), found {value!r}", ctx)
    if element.pattern is not None and not matches_pattern(element.pattern[1], value):
        run.error(path, f"must match {element.pattern[0]} {element.pattern[1]!r}, found {value!r}", ctx)


def matches_pattern(pattern, value) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches_pattern(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(matches_pattern(p, v) for v in value) for p in pattern)
    return pattern == value


def codings_of(value, type_code: str) -> list[tuple[str | None, str | None]]:
    if type_code == "CodeableConcept":
        return [(c.get("system"), c.get("code")) for c in value.get("coding", []) if isinstance(c, dict)]
    if type_code == "Coding":
        return [(value.get("system"), value.get("code"))]
    return [(None, value)]


def in_value_set(value_set, value, type_code: str) -> bool:
    pairs = codings_of(value, type_code)
    if type_code in ("CodeableConcept", "Coding"):
        return any(value_set.contains(system, code) for system, code in pairs)
    return any(value_set.contains_code(code) for _, code in pairs)


def check_binding(run: Run, element: ElementDef, value, type_code: str, path: str, ctx: Ctx) -> None:
    if element.binding is None or element.binding[0] != "required" or value is None:
        return
    url = element.binding[1]
    value_set = load().value_sets.get(url)
    if value_set is None:
        run.note(f"{element.id}: required ValueSet {url} is not in the package: codes not checked")
        return
    if in_value_set(value_set, value, type_code):
        return
    if value_set.missing:
        run.note(f"{element.id}: ValueSet {url} only partly expanded ({'; '.join(value_set.missing)})")
        return
    shown = ", ".join(f"{s}|{c}" if s else repr(c) for s, c in codings_of(value, type_code)) or "no coding"
    run.error(path, f"{shown} is not in the required ValueSet {url}", ctx)


@cache
def core_constraint(key: str) -> Constraint:
    """An R4 core invariant as the package's snapshots carry it (same text, so duplicates merge)."""
    return next(c for p in load().profiles.values() for e in p.elements.values() for c in e.constraints if c.key == key)


def check_constraints(run: Run, constraints: tuple[Constraint, ...], value, type_path: str, path: str,
                      ctx: Ctx) -> None:
    for constraint in constraints:
        if constraint.severity != "error":
            continue
        if constraint.key in invariants.NOT_EVALUATED:
            run.note(f"invariant {constraint.key} not evaluated: {invariants.NOT_EVALUATED[constraint.key]}")
            continue
        try:
            ok = invariants.holds(constraint, value, type_path, ctx.resource, ctx.root)
        except Exception as exc:  # a gap of fhirpathpy must show, never pass silently
            run.error(path, f"invariant {constraint.key} could not be evaluated ({exc})", ctx)
            continue
        if not ok:
            run.error(path, f"invariant {constraint.key} failed: {constraint.human} ({constraint.expression})", ctx)


def _profile_type(url: str) -> str | None:
    profile = load().profiles.get(url)
    if profile is not None:
        return profile.type
    last = url.rstrip("/").rsplit("/", 1)[-1]
    if url.startswith("http://hl7.org/fhir/StructureDefinition/") and last in RESOURCE_TYPES:
        return last
    if last.startswith("Fr") and last[2:] in RESOURCE_TYPES:  # hl7.fhir.fr.core names: FrPractitioner...
        return last[2:]
    return None


def check_reference_target(run: Run, value: dict, tref: TypeRef, path: str, ctx: Ctx) -> None:
    reference = value.get("reference")
    if not isinstance(reference, str):
        return
    if tref.aggregation == ("contained",) and not reference.startswith("#"):
        run.error(path + ".reference", f"{reference!r} must point to a contained resource (aggregation: contained)", ctx)
    elif tref.aggregation and "contained" not in tref.aggregation and reference.startswith("#"):
        run.error(path + ".reference", f"{reference!r} must not point to a contained resource "
                  f"(aggregation: {', '.join(tref.aggregation)})", ctx)
    allowed = {_profile_type(u) for u in tref.target_profiles}
    if not allowed or None in allowed or "Resource" in allowed or reference.startswith(("#", "urn:")):
        return
    parts = reference.split("/_history/")[0].split("/")
    if len(parts) >= 2 and parts[-2] in RESOURCE_TYPES and parts[-2] not in allowed:
        run.error(path + ".reference", f"{reference!r} points to a {parts[-2]}, allowed: {', '.join(sorted(allowed))}", ctx)


def _model_type(type_path: str, key: str) -> str | None:
    child = ELSEWHERE.get(f"{type_path}.{key}", f"{type_path}.{key}")
    found = PATH2TYPE.get(child)
    if found == "System.String":
        if key == "id" and type_path in RESOURCE_TYPES:
            return "id"
        return "uri" if (type_path, key) == ("Extension", "url") else "string"
    if found is not None:
        return found
    if child in BACKBONES:
        return child
    for i in range(len(key) - 1, 0, -1):
        if key[i].isupper() and key[i:] in CHOICES.get(f"{type_path}.{key[:i]}", ()):
            return type_name(key[i:])
    return None


def walk_model(run: Run, type_path: str, obj, path: str, ctx: Ctx) -> None:
    """Names and types on the R4 model alone, for what no snapshot expands."""
    if not isinstance(obj, dict):
        run.error(path, f"must be a JSON object ({type_path})", ctx)
        return
    # ele-1 and ext-1 hold on every R4 element and extension, expanded by a snapshot or not.
    core = (core_constraint("ele-1"), core_constraint("ext-1")) if type_path == "Extension" else (core_constraint("ele-1"),)
    check_constraints(run, core, obj, type_path, path, ctx)
    for key, raw in obj.items():
        if key == "resourceType" and type_path in RESOURCE_TYPES:
            continue
        bare = key.lstrip("_")
        found = _model_type(type_path, bare)
        if found is None:
            run.error(f"{path}.{key}", f"unknown element (not in the R4 {type_path})", ctx)
            continue
        items = raw if isinstance(raw, list) else [raw]
        if raw == []:
            run.error(f"{path}.{key}", "is an empty JSON array (R4 JSON omits an element without values)", ctx)
        for i, item in enumerate(items):
            where = f"{path}.{key}[{i}]" if isinstance(raw, list) else f"{path}.{key}"
            if item is None:
                continue
            if key.startswith("_"):
                walk_model(run, "Element", item, where, ctx)
            elif primitives.is_primitive(found):
                problem = primitives.check(found, item)
                if problem:
                    run.error(where, problem, ctx)
            elif found in RESOURCE_TYPES or found == "Resource":
                kind = item.get("resourceType") if isinstance(item, dict) else None
                root = ctx.root if bare == "contained" else item
                validate_resource(run, item, f"{where}({kind})", None, root=root)
            else:
                walk_model(run, found, item, where, ctx)
