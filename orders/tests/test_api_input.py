"""Bad input on the order endpoints (docs/contract.md#http-api): a 4xx in the envelope, nothing stored, refusal logged."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework_simplejwt.tokens import AccessToken

from common.api.auth import SERVICE_GROUP, service_group_add
from common.api.models import IdempotencyRecord
from orders.models import ActionLog, Order
from orders.statuses import SyncStatus

pytestmark = pytest.mark.django_db

BUBBLE_ID = "1671702337369x488321592367327900"


def _envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def _nothing_stored():
    assert not Order.objects.exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("bad_id", ["123", "abcx123", "1671702337369x48832159236732790O", "1671702337369-488321592367327900", "x" * 80])
def test_a_malformed_id_is_400_and_the_refusal_is_logged(auth_client, bad_id):
    response = auth_client.post(f"/v1/orders/{bad_id}/sync-omie", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    error = _envelope(response, 400, "validation_error")
    assert error["details"]["order_id"] == bad_id[:100]
    _nothing_stored()
    entry = ActionLog.objects.get()
    assert (entry.action, entry.outcome, entry.order_bubble_id, entry.actor) == ("sync_trigger", "rejected", bad_id[:64], "bubble")
    assert entry.payload["code"] == "validation_error"


def test_a_malformed_id_on_get_is_400(auth_client):
    _envelope(auth_client.get("/v1/orders/not-an-id"), 400, "validation_error")


def test_an_unknown_order_on_get_is_404(auth_client):
    _envelope(auth_client.get(f"/v1/orders/{BUBBLE_ID}"), 404, "not_found")


def test_non_json_body_is_400(auth_client):
    response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", data=b"{oops", content_type="application/json")
    _envelope(response, 400, "validation_error")
    _nothing_stored()
    assert ActionLog.objects.get().outcome == "rejected"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"42"])
def test_a_body_that_is_not_an_object_is_400(auth_client, body):
    _envelope(auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", data=body, content_type="application/json"), 400, "validation_error")
    _nothing_stored()


def test_unknown_fields_are_400_naming_them(auth_client):
    error = _envelope(auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {"force": True}, format="json"), 400, "validation_error")
    assert error["details"]["fields"] == {"force": ["Campo desconhecido."]}
    _nothing_stored()


def test_wrong_content_type_is_415(auth_client):
    response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", data=b"a=1", content_type="application/x-www-form-urlencoded")
    _envelope(response, 415, "unsupported_media_type")
    _nothing_stored()


def test_a_body_without_content_type_is_415(auth_client):
    response = auth_client.generic("POST", f"/v1/orders/{BUBBLE_ID}/sync-omie", data=b"{}", content_type="")
    _envelope(response, 415, "unsupported_media_type")
    _nothing_stored()


def test_a_body_over_1mb_is_413(auth_client):
    big = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    _envelope(auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", data=big, content_type="application/json"), 413, "payload_too_large")
    _nothing_stored()


def test_unauthenticated_is_401_and_not_logged(api_client):
    _envelope(api_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json"), 401, "not_authenticated")
    _nothing_stored()
    assert not ActionLog.objects.exists()


def test_retry_without_permission_is_403_and_logged_with_the_operator(api_client, user_factory):
    Order.objects.create(bubble_id=BUBBLE_ID, sync_status=SyncStatus.FAILED, last_error="x")
    user = user_factory("ops-sem-permissao")
    Group.objects.get(name=SERVICE_GROUP).permissions.clear()  # a service user whose group lacks the permission
    service_group_add(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = api_client.post(f"/v1/orders/{BUBBLE_ID}/retry", {"operator": "ana@example.com"}, format="json")
    _envelope(response, 403, "permission_denied")
    assert Order.objects.get().sync_status == SyncStatus.FAILED
    entry = ActionLog.objects.get()
    assert (entry.actor, entry.action, entry.outcome) == ("bubble:ana@example.com", "retry", "rejected")
    assert entry.order.bubble_id == BUBBLE_ID


@pytest.mark.parametrize("body", [{}, {"operator": "não é e-mail"}, {"operator": "a@example.com", "extra": 1}])
def test_retry_needs_a_valid_operator_and_nothing_else(auth_client, body):
    Order.objects.create(bubble_id=BUBBLE_ID, sync_status=SyncStatus.FAILED, last_error="x")
    _envelope(auth_client.post(f"/v1/orders/{BUBBLE_ID}/retry", body, format="json"), 400, "validation_error")
    assert Order.objects.get().sync_status == SyncStatus.FAILED
