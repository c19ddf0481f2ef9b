"""Which slice each occurrence of a sliced element belongs to, from the slicing's discriminators.

Resolved: `value`/`pattern` on a path whose element in the slice has a fixed[x] or pattern[x], on an
extension's `url` (the slice's type profile), or on a path bound `required` to a ValueSet the
validator can expand (the CPTS Slot's serviceType slices by `pattern $this` carry only a binding);
`type` on `resource` or `$this`; `profile` on `resource` (the declared meta.profile, else conformance);
`exists`. Anything else falls back to conformance (the occurrence belongs to the first slice it
validates against without error) and says so in the report's notes.
"""
from __future__ import annotations

from .package import ElementDef, TypeRef, load


def assign_slices(run, sliced: ElementDef, occurrences: list, path: str, ctx) -> list[ElementDef]:
    chosen: list[ElementDef] = []
    counts = {id(s): 0 for s in sliced.slices}
    closed = sliced.slicing.get("rules") == "closed"
    for i, (value, _ext, tref, key) in enumerate(occurrences):
        match = next((s for s in sliced.slices if _matches(run, sliced, s, value, tref, ctx)), None)
        if match is None:
            if closed:
                run.error(f"{path}.{key}[{i}]", f"matches no slice of {sliced.id} (slicing is closed)", ctx)
            chosen.append(sliced)
        else:
            counts[id(match)] += 1
            chosen.append(match)
    from .walker import _cardinality

    for s in sliced.slices:
        _cardinality(run, s, counts[id(s)], f"{path}.{sliced.name}:{s.slice_name}", ctx)
    return chosen


def _matches(run, sliced: ElementDef, slice_: ElementDef, value, tref: TypeRef, ctx) -> bool:
    for discriminator in sliced.slicing.get("discriminator", []):
        kind, disc_path = discriminator["type"], discriminator["path"]
        verdict = _discriminate(kind, disc_path, slice_, value, tref)
        if verdict is None:
            run.note(f"slicing of {sliced.id} by {kind} {disc_path!r}: slice {slice_.slice_name} "
                     "resolved by conformance (no fixed, pattern or expandable binding at that path)")
            verdict = _conforms(slice_, value, tref, ctx)
        if not verdict:
            return False
    return True


def descend(element: ElementDef, path: str) -> ElementDef | None:
    if path == "$this":
        return element
    for part in path.split("."):
        children = element.effective_children()
        if part not in children:
            profiles = load().profiles
            typed = [profiles[u] for t in element.types for u in t.profiles if u in profiles]
            children = typed[0].root.effective_children() if typed else {}
        if part not in children:
            return None
        element = children[part]
    return element


def navigate(value, path: str) -> list:
    nodes = [value]
    if path == "$this":
        return nodes
    for part in path.split("."):
        following = []
        for node in nodes:
            if isinstance(node, dict) and node.get(part) is not None:
                found = node[part]
                following.extend(found if isinstance(found, list) else [found])
        nodes = following
    return nodes


def _discriminate(kind: str, disc_path: str, slice_: ElementDef, value, tref: TypeRef) -> bool | None:
    from .walker import in_value_set, matches_pattern

    target = descend(slice_, disc_path)
    nodes = navigate(value, disc_path)
    if kind in ("value", "pattern"):
        if target is not None and target.fixed is not None:
            return any(n == target.fixed[1] for n in nodes)
        if target is not None and target.pattern is not None:
            return any(matches_pattern(target.pattern[1], n) for n in nodes)
        if disc_path == "url" and slice_.types and slice_.types[0].profiles:
            return any(n in slice_.types[0].profiles for n in nodes)
        if target is not None and target.binding is not None and target.binding[0] == "required":
            value_set = load().value_sets.get(target.binding[1])
            if value_set is not None and not value_set.missing:
                code = target.types[0].code if target.types else "code"
                return any(in_value_set(value_set, n, code) for n in nodes)
        return None
    if kind == "type":
        if disc_path == "$this":
            return tref.code in {t.code for t in slice_.types}
        if target is None:
            return None
        codes = {t.code for t in target.types}
        return any(isinstance(n, dict) and n.get("resourceType") in codes for n in nodes)
    if kind == "profile" and target is not None:
        codes = {t.code for t in target.types}
        if not any(isinstance(n, dict) and n.get("resourceType") in codes | {"Resource"} for n in nodes):
            return False
        urls = {u for t in target.types for u in t.profiles}
        declared = {u for n in nodes if isinstance(n, dict) for u in (n.get("meta") or {}).get("profile") or []}
        if urls & declared:
            return True
        return None if nodes else False
    if kind == "exists" and target is not None:
        if target.min > 0:
            return bool(nodes)
        if target.max == 0:
            return not nodes
    return None


def _conforms(slice_: ElementDef, value, tref: TypeRef, ctx) -> bool:
    from .walker import Run, check_value

    trial = Run()
    check_value(trial, slice_, value, None, "slice", ctx, tref)
    return not trial.errors
