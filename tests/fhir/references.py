"""References that must resolve: inside a Bundle (relative `Type/id`, `urn:uuid:`) and to contained resources.

- every `fullUrl` is unique, and so is every `Type/id` of the entries;
- a relative reference `Schedule/abc` resolves to an entry (by the entry's RESTful base + `Schedule/abc`,
  else by type and id); a `urn:uuid:` reference to a fullUrl; absolute http(s) references may point
  outside the Bundle and are not required to resolve;
- `#id` resolves to a resource contained in the same container, and every contained resource is
  referenced from its container (R4 dom-3, which fhirpathpy cannot evaluate).
"""
from __future__ import annotations

import re

RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/[A-Za-z0-9\-\.]{1,64})?$")


def _references(node, path: str):
    """(path, reference) for every Reference.reference under `node`, not entering contained resources."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield f"{path}.reference", value
            elif key != "contained":
                yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _references(item, f"{path}[{i}]")


def _check_contained(resource: dict, path: str, errors: list[str]) -> list[tuple[str, str]]:
    """Checks `#` references of a resource and its contained ones; returns the others (path, reference)."""
    contained = [c for c in resource.get("contained") or [] if isinstance(c, dict)]
    ids = [c.get("id") for c in contained]
    outward = []
    local = []
    for where, reference in _references(resource, path):
        (local if reference.startswith("#") else outward).append((where, reference))
    for i, item in enumerate(contained):
        item_path = f"{path}.contained[{i}]({item.get('resourceType')})"
        for where, reference in _references(item, item_path):
            (local if reference.startswith("#") else outward).append((where, reference))
    for where, reference in local:
        if reference != "#" and reference[1:] not in ids:
            errors.append(f"{where}: {reference!r} matches no contained resource (contained ids: {ids})")
    referenced = {r[1:] for _, r in local}
    for i, item in enumerate(contained):
        item_id = item.get("id")
        if ids.count(item_id) > 1:
            errors.append(f"{path}.contained[{i}]: id {item_id!r} is used by two contained resources")
        if item_id not in referenced:
            errors.append(f"{path}.contained[{i}]: contained resource #{item_id} is not referenced "
                          "from its container (dom-3)")
    return outward


def _base(full_url: str, resource: dict) -> str | None:
    tail = f"{resource.get('resourceType')}/{resource.get('id')}"
    return full_url[: -len(tail)] if full_url.endswith("/" + tail) else None


def check(resource: dict) -> list[str]:
    errors: list[str] = []
    if not isinstance(resource, dict):
        return errors
    root = resource.get("resourceType", "Resource")
    if root != "Bundle":
        _check_contained(resource, root, errors)
        return errors
    entries = [e for e in resource.get("entry") or [] if isinstance(e, dict)]
    full_urls: dict[str, int] = {}
    by_type_id: dict[str, int] = {}
    for i, entry in enumerate(entries):
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            if full_url in full_urls:
                errors.append(f"Bundle.entry[{i}].fullUrl: {full_url!r} already used by entry[{full_urls[full_url]}]")
            full_urls.setdefault(full_url, i)
        item = entry.get("resource")
        if isinstance(item, dict) and item.get("id"):
            key = f"{item.get('resourceType')}/{item['id']}"
            if key in by_type_id:
                errors.append(f"Bundle.entry[{i}].resource: {key} is already entry[{by_type_id[key]}]")
            by_type_id.setdefault(key, i)
    for i, entry in enumerate(entries):
        item = entry.get("resource")
        if not isinstance(item, dict):
            continue
        path = f"Bundle.entry[{i}].resource({item.get('resourceType')})"
        base = _base(entry.get("fullUrl") or "", item)
        for where, reference in _check_contained(item, path, errors):
            if reference.startswith("urn:"):
                if reference not in full_urls:
                    errors.append(f"{where}: {reference!r} matches no fullUrl of the Bundle")
                continue
            match = RELATIVE.match(reference)
            if match is None:
                continue  # absolute: may live outside the Bundle
            target = f"{match[1]}/{match[2]}"
            if (base is not None and base + target in full_urls) or target in by_type_id:
                continue
            errors.append(f"{where}: {reference!r} matches no entry of the Bundle")
    return errors
