"""Storing an Omie webhook event: one INSERT, unique on messageId, processing enqueued after commit.

Omie delivers the events of one endpoint in order and a non-2xx answer blocks every later event for
up to five days, so storing never depends on the event's content: whatever is authentic is kept and
answered 200, and what it means is decided later by the processing task.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from integrations.omie.webhooks.fields import message_id_of, storable, topic_of
from integrations.omie.webhooks.models import OmieWebhookEvent
from integrations.webhooks import OMIE, webhook_event_enqueue

# What ops read on an event refused for a NUL in its messageId (docs/omie_webhooks.md).
NUL_MESSAGE_ID = ("O messageId contém um caractere nulo (\\u0000), que o banco não guarda: evento registrado como inválido, "
                  "sem processar. O corpo original está em _corpo_base64.")


def omie_webhook_store(*, raw: bytes, payload: Any) -> tuple[OmieWebhookEvent | None, bool]:
    """Keeps the event (raw) and enqueues its processing; (event, False) for a repeated messageId."""
    message_id = message_id_of(payload, raw)
    invalid: dict[str, Any] = {}
    if "\x00" in message_id:
        # PostgreSQL text cannot hold NUL: the insert failed and Omie, answered 503, retried it forever,
        # blocking its queue (second security review). Stored as invalid (200), keyed by the body so a
        # redelivery is still a duplicate; never processed.
        message_id = "sem-id-nul:" + hashlib.sha256(raw).hexdigest()
        invalid = {"status": OmieWebhookEvent.Status.INVALID, "message": NUL_MESSAGE_ID, "processed_at": timezone.now()}
    if not storable(payload):
        # Valid JSON that jsonb cannot hold (a NUL character): kept as the bytes Omie sent.
        payload = {"_corpo_base64": base64.b64encode(raw).decode()}
    try:
        with transaction.atomic():
            event = OmieWebhookEvent.objects.create(message_id=message_id, topic=topic_of(payload), payload=payload, **invalid)
            if not invalid:
                webhook_event_enqueue(OMIE, event.pk, on_commit=True)
    except IntegrityError:
        OmieWebhookEvent.objects.filter(message_id=message_id).update(deliveries=F("deliveries") + 1)
        return None, False
    return event, True


def omie_webhooks_requeue() -> int:
    """Events still RECEIVED a while after arrival (their task was lost) go back to processing."""
    cutoff = timezone.now() - timedelta(seconds=settings.OMIE_WEBHOOK_REQUEUE_AFTER_SECONDS)
    ids = list(OmieWebhookEvent.objects.filter(status=OmieWebhookEvent.Status.RECEIVED, received_at__lt=cutoff)
               .order_by("id").values_list("id", flat=True)[:1000])
    for pk in ids:
        webhook_event_enqueue(OMIE, pk, on_commit=False)
    return len(ids)


def omie_webhook_last_received_at() -> Any:
    return OmieWebhookEvent.objects.aggregate(last=Max("received_at"))["last"]


def omie_webhooks_healthy() -> bool:
    """On, and an event arrived recently: the webhook will most likely settle a new NFS-e before a poll."""
    if not settings.OMIE_WEBHOOKS:
        return False
    since = timezone.now() - timedelta(seconds=settings.OMIE_WEBHOOK_HEALTHY_SECONDS)
    return OmieWebhookEvent.objects.filter(received_at__gte=since).exists()
