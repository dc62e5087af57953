"""docs/contract.md#http-api Idempotency-Key: replay for 24 h, 409 while in flight, 422 on another body, per caller."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from common.api.auth import service_group_add
from common.api.idempotency_records import idempotency_prune, request_fingerprint
from common.api.models import IdempotencyRecord
from orders.models import ActionLog

pytestmark = pytest.mark.django_db

URL = "/v1/_test/counting/"


@pytest.fixture(autouse=True)
def _test_urls(settings):
    settings.ROOT_URLCONF = "orders.tests.urls"


def runs() -> int:
    return ActionLog.objects.filter(action="counting").count()


def test_a_repeated_key_replays_the_stored_response_without_running_again(auth_client):
    first = auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"runs": 1, "n": 1}
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert runs() == 1


def test_json_key_order_and_spacing_do_not_make_another_request(auth_client):
    auth_client.post(URL, data=b'{"n": 1, "x": 2}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = auth_client.post(URL, data=b'{"x":2,"n":1}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert runs() == 1


def test_the_same_key_with_another_body_is_refused_with_422(auth_client):
    auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = auth_client.post(URL, {"n": 2}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert runs() == 1


def test_without_a_key_every_post_runs(auth_client):
    auth_client.post(URL, {"n": 1}, format="json")
    auth_client.post(URL, {"n": 1}, format="json")
    assert runs() == 2
    assert not IdempotencyRecord.objects.exists()


def test_keys_are_scoped_by_caller(auth_client, api_client, user_factory):
    other = service_group_add(user_factory("other"))
    auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(other)}")
    response = api_client.post(URL, {"n": 9}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert runs() == 2


def test_a_refused_request_stores_nothing_and_the_key_can_be_used_again(auth_client):
    refused = auth_client.post(URL, {"refuse": True}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    ok = auth_client.post(URL, {"n": 3}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert ok.status_code == 201 and runs() == 1


def test_non_json_body_with_a_key_is_400_and_stores_nothing(auth_client):
    response = auth_client.post(URL, data=b"{nope", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    assert not IdempotencyRecord.objects.exists() and runs() == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "tem espaço", "ção"])
def test_a_malformed_key_is_400(auth_client, key):
    response = auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and response.json()["error"]["details"] == {"header": "Idempotency-Key"}
    assert runs() == 0


def test_a_key_older_than_24h_is_a_new_request_and_the_prune_deletes_it(auth_client):
    auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = auth_client.post(URL, {"n": 2}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response and runs() == 2

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    auth_client.post(URL, {"n": 3}, format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.parametrize(("locked_for", "status"), [(-1, 201), (60, 409)])
def test_an_in_flight_key_whose_holder_died_is_taken_over_after_its_lock(auth_client, locked_for, status):
    fingerprint = request_fingerprint(method="POST", path=URL, body=b'{"n": 1}')
    IdempotencyRecord.objects.create(
        caller=f"user:{auth_client.user.pk}", key="dead", fingerprint=fingerprint, method="POST", path=URL,
        created_at=timezone.now(), locked_until=timezone.now() + timedelta(seconds=locked_for),
    )
    assert auth_client.post(URL, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="dead").status_code == status
    # Another body is refused either way: the key belongs to another request.
    assert auth_client.post(URL, {"n": 2}, format="json", HTTP_IDEMPOTENCY_KEY="dead").status_code == 422


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_while_the_first_runs_gets_409_then_the_replay(live_server, user_factory, settings):
    user = service_group_add(user_factory("bubble"))
    headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}", "Idempotency-Key": "slow"}
    url = live_server.url + URL
    results: dict[str, requests.Response] = {}

    first = threading.Thread(target=lambda: results.update(first=requests.post(url, json={"sleep": 1.5}, headers=headers, timeout=10)))
    first.start()
    # wait until the first request holds the key
    deadline = timezone.now() + timedelta(seconds=5)
    while not IdempotencyRecord.objects.filter(key="slow").exists() and timezone.now() < deadline:
        pass
    duplicate = requests.post(url, json={"sleep": 1.5}, headers=headers, timeout=10)
    first.join()

    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "request_in_progress" and duplicate.headers["Retry-After"] == "1"
    assert results["first"].status_code == 201
    replay = requests.post(url, json={"sleep": 1.5}, headers=headers, timeout=10)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert runs() == 1
