"""The snapshots' invariants (`constraint[].expression`), evaluated with fhirpathpy on the R4 model.

Only severity `error` counts (dom-6, "should have a narrative", is a warning, as the IG publisher's
own validation of the examples reports it). An invariant fails when its expression yields `false`;
an empty result passes: ref-1 on a Reference that carries only an identifier (every PractitionerRole
example's `organization`) yields empty, and the IG publisher's validation reports no error there.
"""
from __future__ import annotations

from functools import cache

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from .package import Constraint

R4 = models["r4"]


def _has_value(inputs: list) -> bool:
    # FHIRPath hasValue(), missing from fhirpathpy 2.2: a single primitive that carries a value.
    return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))


_OPTIONS = {
    "traceFn": lambda label, value: None,  # ref-1 and dom-3 call trace(); fhirpathpy prints by default
    "userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}},
}


def _ele_1(value) -> bool:
    """ele-1 `hasValue() or (children().count() > id.count())`: a value, or a child other than id."""
    if not isinstance(value, dict):
        return value is not None
    return any(k.lstrip("_") != "id" and v not in (None, [], {}) for k, v in value.items())


def _ext_1(value) -> bool:
    """ext-1 `extension.exists() != value.exists()`: an extension has either a value or extensions."""
    has_value = any(k.lstrip("_").startswith("value") for k in value)
    return bool(value.get("extension")) != has_value


# ele-1 is on every element of every snapshot (1,500 times in this package) and ext-1 on every
# extension: evaluated through fhirpathpy they would cost ~40 us each, most of a Bundle's validation
# time. These equivalent predicates run instead; test_fhir_validator checks they agree with
# fhirpathpy on every element of every example and on broken elements.
NATIVE = {
    "hasValue() or (children().count() > id.count())": _ele_1,
    "extension.exists() != value.exists()": _ext_1,
}

# Invariants whose R4 expression fhirpathpy cannot evaluate, and why. Nothing else is skipped: an
# expression that raises is reported as an error naming the invariant, so this list stays complete.
NOT_EVALUATED = {
    "dom-3": (
        "fhirpathpy 2.2 raises 'Expected singleton on left side of as' on `descendants().as(canonical)` "
        "(R4 applies as() to a collection, which FHIRPath N1 forbids; the Java validator tolerates it). "
        "Its rule, every contained resource is referenced from its container, is checked by "
        "references.check() instead."
    ),
}


@cache
def _compiled(expression: str):
    return fhirpathpy.compile(expression, model=R4, options=_OPTIONS)


def holds(constraint: Constraint, value, type_path: str, resource: dict, root: dict) -> bool:
    """Whether `constraint` holds on `value`, an instance of the type (or backbone path) `type_path`."""
    native = NATIVE.get(constraint.expression)
    if native is not None:
        return native(value)
    return evaluate(constraint.expression, value, type_path, resource, root) != [False]


def evaluate(expression: str, value, type_path: str, resource: dict, root: dict) -> list:
    node = ResourceNode.create_node(value, type_path)
    return _compiled(expression)(node, {"resource": resource, "rootResource": root})
