"""Bad input on POST /webhooks/pagarme (issue 8): random bytes, huge bodies, wrong signatures, valid
signatures over broken JSON. Only 200/400/401/413 come back, and nothing that was not a valid,
signed event object is stored (so nothing else is ever processed).

Signed the way production checks by default: RS256 (X-Webhook-Asymmetric-Signature) with the fake
Pagar.me's key, its JWKS served over HTTP by the live server (the ``fake_pagarme`` fixture)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from integrations.pagarme.webhooks.models import PagarmeEvent

URL = "/webhooks/pagarme"
ALLOWED = {200, 400, 401, 413}
FUZZ = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def sign(body: bytes) -> str:
    from sandbox.fake_pagarme.keys import sign as rs256_sign

    return rs256_sign(body)


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE": signature} if signature is not None else {}
    return client.generic("POST", URL, data=body, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def _rs256(fake_pagarme) -> None:
    """rs256 only, the fake's JWKS on the live server, a fresh key pair."""


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.django_db
@FUZZ
@given(body=st.binary(max_size=2048), signature=st.one_of(
    st.none(), st.text(max_size=80), st.just("sha256=" + "0" * 64),
    st.builds("alg=RS256; kid={}; signature={}".format, st.text(max_size=20), st.text(max_size=60))))
def test_random_bytes_and_wrong_signatures_are_refused(client, body: bytes, signature: str | None) -> None:
    response = post(client, body, signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not PagarmeEvent.objects.exists()


@pytest.mark.django_db
@FUZZ
@given(body=st.binary(max_size=2048))
def test_signed_random_bytes_are_never_a_server_error(client, body: bytes) -> None:
    response = post(client, body, sign(body))
    assert response.status_code in ALLOWED, response.content[:300]
    if response.status_code != 200:
        assert not PagarmeEvent.objects.exists()


@pytest.mark.django_db
@FUZZ
@given(payload=json_values, event_id=st.one_of(st.none(), st.integers(), st.text(max_size=300)))
def test_signed_json_of_any_shape_is_answered_within_the_contract(client, payload: object, event_id: object) -> None:
    if isinstance(payload, dict) and event_id is not None:
        payload = {**payload, "id": event_id}
    body = json.dumps(payload).encode()
    before = PagarmeEvent.objects.count()
    response = post(client, body, sign(body))
    assert response.status_code in ALLOWED, response.content[:300]
    valid = isinstance(payload, dict) and isinstance(event_id, str) and event_id.strip() != ""
    if not valid:
        assert response.status_code == 400
        assert PagarmeEvent.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "hook_nul", "type": "charge.paid", "data": {"note": "a\\u0000b"}}',  # PostgreSQL jsonb refuses \u0000
        b'{"id": "hook_\\u0000nul"}',
        b'{"id": "hook_lone", "data": "\\ud800"}',  # a lone surrogate: valid JSON, not valid UTF-8 text
        b'{"id": "' + b"h" * 500 + b'"}',
        b'{"id": "hook_deep", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"id": "hook_inf", "data": [Infinity, NaN, -Infinity]}',  # Python's json accepts them; jsonb does not
    ],
    ids=["nul-in-payload", "nul-in-id", "lone-surrogate", "long-id", "deeply-nested", "nan-infinity"],
)
def test_signed_awkward_json_is_never_a_server_error(client, body: bytes) -> None:
    response = post(client, body, sign(body))
    assert response.status_code in ALLOWED, response.content[:300]


@pytest.mark.django_db
def test_huge_body_is_413_and_nothing_is_stored(client) -> None:
    body = b'{"id": "hook_huge", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = post(client, body, sign(body))
    assert response.status_code == 413
    assert not PagarmeEvent.objects.exists()


@pytest.mark.django_db
def test_a_valid_event_is_stored_once() -> None:
    from django.test import Client

    body = json.dumps({"id": "hook_ok_1", "type": "charge.paid", "data": {}}).encode()
    client = Client()
    assert post(client, body, sign(body)).status_code == 200
    assert post(client, body, sign(body)).status_code == 200
    assert PagarmeEvent.objects.filter(event_id="hook_ok_1").count() == 1
