"""The API answers as its OpenAPI document says (issue 15, item 10), checked by schemathesis.

The document validates as OpenAPI 3; then, for every operation, schemathesis generates requests
from the document (valid and not) and checks each answer: never a 5xx, every body (errors
included) matches the schema documented for its status, and every answer to the signed-in caller
is ``Cache-Control: no-store`` (issue 28). Each operation is called by a role it allows, in a
world of two CPTS sharing a regulation area and a third outside it. The budget is ``EXAMPLES``
per operation (``SNP_SCHEMATHESIS_EXAMPLES``): 160, so that each database's pass runs more than
5,000 cases (issue 28), derandomised so a failure replays; the figures (cases, 5xx, schema
violations) are printed at the end of the module.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                               status_code_conformance)

from snp_service import create_app

from . import scope_world
from .api_operations import by_openapi_path
from .conftest import TEST_DB

API = "/api/v1"
EXAMPLES = int(os.environ.get("SNP_SCHEMATHESIS_EXAMPLES", "160"))
# The caller of each operation: the first of these its view allows.
_ROLE_PREFERENCE = ("coordinator", "gp", "regulator", "admin")
_USER_FOR_ROLE = {"coordinator": "coordinator_A", "gp": "gp_A", "regulator": "regulator_A", "admin": "admin"}
FIGURES: Counter = Counter()


def test_the_openapi_document_validates(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    validate(spec)
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
                  if method != "parameters"]
    assert len(operations) >= 30
    for path, method, op in operations:
        errors = {code for code in op["responses"] if code != "default" and int(code) >= 400}
        assert {"400", "503"} <= errors and "default" in op["responses"], (method, path)
        media = "application/fhir+json" if path.startswith(f"{API}/fhir") else "application/json"
        for code in errors:
            name = op["responses"][code]["$ref"].rsplit("/", 1)[1]
            assert media in spec["components"]["responses"][name]["content"], (method, path, code)


def _documented_operations() -> list[tuple[str, str]]:
    app = create_app({"CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item if method != "parameters"]


OPERATIONS = _documented_operations()


@pytest.fixture(scope="module", autouse=True)
def figures(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and FIGURES["cases"]:
        with capture.global_and_fixture_disabled():  # the figure of the closing note, shown even with -q
            reporter.write_line(f"\nschemathesis on {TEST_DB}: {FIGURES['cases']} cases, {FIGURES['5xx']} 5xx, "
                                f"{FIGURES['violations']} schema violations ({EXAMPLES} examples per operation)")


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p.removeprefix(API)}" for m, p in OPERATIONS])
def test_the_api_answers_as_documented(method, path, app, world, monkeypatch):
    sw = scope_world.build(world, monkeypatch)
    roles = by_openapi_path(app)[(method, path)].roles
    headers = {}
    if roles is not None:
        role = next(r for r in _ROLE_PREFERENCE if r in roles)
        headers = world.headers(sw.users[_USER_FOR_ROLE[role]])
    operation = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def answers_as_documented(case):
        world.forget_sign_in_attempts()  # the sign-in throttle would turn every later case into a 429
        response = case.call(headers=headers)
        FIGURES["cases"] += 1
        FIGURES["5xx"] += response.status_code >= 500
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance])
            if headers:  # the answer may hold patient data: no cache keeps it (schemathesis: lowercase, lists)
                assert response.headers.get("cache-control") == ["no-store"], (response.status_code, response.headers)
        except BaseException:  # schemathesis raises its failures as an exception group
            FIGURES["violations"] += 1
            raise

    answers_as_documented()
