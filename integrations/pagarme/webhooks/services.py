"""Storing a Pagar.me webhook event: one INSERT, unique on the event id, processing handed to billing
after commit (``integrations.webhooks``), the same shape as Omie's (``integrations/omie/webhooks/services.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.pagarme.webhooks.models import PagarmeEvent
from integrations.webhooks import PAGARME, webhook_event_enqueue


def pagarme_event_store(*, event_id: str, payload: dict[str, Any], auth_scheme: str = "") -> tuple[PagarmeEvent | None, bool]:
    """Keeps the event (raw payload) and enqueues its processing; (event, False) for a repeat."""
    try:
        with transaction.atomic():
            event = PagarmeEvent.objects.create(event_id=event_id[:100], type=str(payload.get("type") or "")[:80], payload=payload,
                                                auth_scheme=auth_scheme[:8])
            webhook_event_enqueue(PAGARME, event.pk, on_commit=True)
    except IntegrityError:
        return PagarmeEvent.objects.filter(event_id=event_id[:100]).first(), False
    return event, True


def pagarme_events_requeue(*, older_than_seconds: int = 300) -> int:
    """Re-enqueues events still RECEIVED a while after arrival (their task was lost with Redis)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    ids = list(PagarmeEvent.objects.filter(due, status=PagarmeEvent.Status.RECEIVED, received_at__lt=cutoff)
               .order_by("id").values_list("id", flat=True)[:500])
    for pk in ids:
        webhook_event_enqueue(PAGARME, pk, on_commit=False)
    return len(ids)
