"""schemathesis against /v1/schema/ with a valid token (issue 8): no 5xx and no response outside the
schema, for every operation. CI runs a few examples per operation; `make reliability`
(RELIABILITY_FULL=1) runs many more."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as specs_checks

from config.wsgi import application

EXAMPLES = 60 if os.environ.get("RELIABILITY_FULL") else 4
AUTH: dict[str, str] = {}


def _openapi() -> dict:
    """The same document /v1/schema/ serves (drf-spectacular), built at collection time."""
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


@pytest.fixture(autouse=True)
def _token(db, user_factory, request) -> None:
    from django.core import signals
    from django.db import close_old_connections
    from rest_framework_simplejwt.tokens import AccessToken

    from common.api.auth import service_group_add

    AUTH["Authorization"] = f"Bearer {AccessToken.for_user(service_group_add(user_factory()))}"
    # In-process WSGI calls share the test's connection: like Django's test Client, don't close it per request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: (signals.request_started.connect(close_old_connections),
                                  signals.request_finished.connect(close_old_connections)))


def test_the_served_schema_is_the_one_tested(client) -> None:
    response = client.get("/v1/schema/?format=json", HTTP_AUTHORIZATION=AUTH["Authorization"])
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(_openapi()["paths"])


schema = schemathesis.openapi.from_dict(_openapi()).include(path_regex="^/v1/(orders|customers)/")
schema.app = application


# What issue 8 asks: no 5xx and no response outside the schema (status codes, content types, bodies).
# Every error status is documented once for all operations (common/schema.py add_error_responses).
# Not checked: "schema-valid data must be accepted" — the serializers refuse more than the schema can
# say (unknown fields, cross-field rules such as a justification's length per reason), with a 400.
CHECKS = [
    not_a_server_error,
    specs_checks.status_code_conformance,
    specs_checks.content_type_conformance,
    specs_checks.response_schema_conformance,
]


@schema.parametrize()
@hsettings(max_examples=EXAMPLES, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)
