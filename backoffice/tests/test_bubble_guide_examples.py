"""docs/bubble.md's example responses are generated from the OpenAPI schema (backoffice/bubble_guide.py);
here the schema's example for an order is compared with what the API really answers for an issued
order, key by key and nesting by nesting, so the examples cannot drift from the serializers."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice.bubble_guide import example, openapi_schema
from billing.tests.factories import order_in_state

pytestmark = pytest.mark.django_db


def _shape(value: Any) -> Any:
    """Keys and nesting; scalars (and null, which an example may fill) are just "value"."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return "value"


def _same_shape(documented: Any, real: Any, path: str = "") -> list[str]:
    if isinstance(real, dict):
        if not isinstance(documented, dict):
            return [f"{path or '/'}: the docs show {documented!r}, the API an object"]
        problems = [f"{path}/{k}: missing in the docs" for k in real.keys() - documented.keys()]
        problems += [f"{path}/{k}: in the docs only" for k in documented.keys() - real.keys()]
        for key in real.keys() & documented.keys():
            if real[key] is not None:
                problems += _same_shape(documented[key], real[key], f"{path}/{key}")
        return problems
    if isinstance(real, list) and real:
        return _same_shape(documented[0] if documented else None, real[0], f"{path}[0]")
    return []


def test_the_documented_order_is_what_the_api_answers(auth_client):
    order = order_in_state("ISSUED", paid=True)
    real = auth_client.get(f"/v1/orders/{order.bubble_id}").json()
    schema = openapi_schema()
    documented = example(schema, {"$ref": "#/components/schemas/OrderDetail"})
    assert real["invoice"] and real["sync_status"] and real["recent_actions"] is not None
    assert _same_shape(documented, real) == []
    # None of the example's objects is empty (the docs used to show "sync_status": {}).
    assert all(documented[k] for k in ("sync_status", "billing_status", "omie", "billing", "payment", "invoice"))


def test_the_checker_catches_a_missing_key():
    assert _same_shape({"a": {}}, {"a": {"code": "X"}}) == ["/a/code: missing in the docs"]
