"""Every operation of the JSON API, from the app's URL map, with the view that serves it.

The authorisation matrix and the contract tests are driven by this list, so an endpoint added
to the app is tested (or fails the test for want of a row) without editing them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str          # OpenAPI style: /api/v1/cpts/{cpts_id}
    endpoint: str
    view: object

    @property
    def key(self) -> str:
        return f"{self.method} {self.path.removeprefix('/api/v1')}"

    @property
    def roles(self) -> tuple[str, ...] | None:
        return getattr(self.view, "snp_roles", None)


def api_operations(app) -> list[Operation]:
    operations = []
    for rule in app.url_map.iter_rules():
        # The documentation (the OpenAPI document, Swagger UI's page and files) is public and no operation.
        if not rule.rule.startswith("/api/") or rule.endpoint.startswith(("api-docs", "swagger_ui")) \
                or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations.append(Operation(method, _PARAM.sub(r"{\1}", rule.rule), rule.endpoint,
                                        app.view_functions[rule.endpoint]))
    return sorted(operations, key=lambda op: (op.path, op.method))


def by_openapi_path(app) -> dict[tuple[str, str], Operation]:
    return {(op.method, op.path): op for op in api_operations(app)}
