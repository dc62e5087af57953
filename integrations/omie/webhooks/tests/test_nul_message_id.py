"""An Omie event whose messageId holds a NUL is stored as invalid and answered 200 (second security review:
the insert failed, Omie got 503 and would have retried it forever, blocking every later event)."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from integrations.omie.webhooks.models import OmieWebhookEvent

TOKEN = "k" * 40
RAW = b'{"messageId": "m-\\u0000-1", "topic": "NFSe.NotaAutorizada", "event": {"idOrdemServico": 5, "numeroNfse": "12"}}'


@pytest.fixture
def on(settings):
    settings.OMIE_WEBHOOKS, settings.OMIE_WEBHOOK_TOKEN, settings.OMIE_WEBHOOK_TOKEN_PREVIOUS = True, TOKEN, ""


def _post(raw: bytes):
    return Client().post(f"/webhooks/omie/{TOKEN}", data=raw, content_type="application/json")


@pytest.mark.django_db
def test_a_nul_in_the_message_id_is_stored_as_invalid_and_answered_200(on, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(RAW)
    assert response.status_code == 200 and response.json() == {"received": True, "duplicate": False}
    assert callbacks == []  # never sent to processing
    event = OmieWebhookEvent.objects.get()
    assert event.status == OmieWebhookEvent.Status.INVALID and event.processed_at is not None
    assert "caractere nulo" in event.message
    assert "\x00" not in event.message_id and event.message_id.startswith("sem-id-nul:")
    assert base64.b64decode(event.payload["_corpo_base64"]) == RAW  # what Omie sent, byte for byte


@pytest.mark.django_db
def test_its_redelivery_is_a_duplicate_not_a_second_row(on):
    assert _post(RAW).status_code == 200
    again = _post(RAW)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert OmieWebhookEvent.objects.get().deliveries == 2


@pytest.mark.django_db
def test_an_ordinary_event_is_still_processed(on, django_capture_on_commit_callbacks):
    body = json.dumps({"messageId": "m-2", "topic": "NFSe.NotaAutorizada", "event": {"idOrdemServico": 5}}).encode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _post(body).status_code == 200
    assert len(callbacks) == 1
    assert OmieWebhookEvent.objects.get().status == OmieWebhookEvent.Status.RECEIVED
