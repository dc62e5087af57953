"""The admin actions that change state outside an order's buttons, each with its own permission
and an action-log entry per row it changed:

- mark reconciliation drifts resolved (``billing.resolve_drift``);
- send UNMATCHED Pagar.me events back to processing (``pagarme.reprocess_pagarmeevent``);
- send Omie webhook events back to processing (``omie.reprocess_omiewebhookevent``).

The two webhook lists live next to their models in ``integrations/<system>/webhooks/admin.py`` and reach
these through ``integrations.webhooks`` (``WEBHOOK_BILLING``, registered by ``billing.apps``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import ReconciliationDrift
from billing.permissions import RESOLVE_DRIFT  # noqa: F401 - the admin checks it
from billing.services.omie_webhooks import omie_webhook_events_reprocess
from billing.services.webhooks import pagarme_events_reprocess
from integrations.omie.webhooks.models import OmieWebhookEvent
from integrations.pagarme.webhooks.models import PagarmeEvent
from integrations.webhooks import OMIE, PAGARME, WebhookBilling
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome


def drifts_resolve(*, drifts: QuerySet[ReconciliationDrift], actor: str) -> int:
    with transaction.atomic():
        rows = list(drifts.filter(resolved_at__isnull=True).select_for_update(of=("self",)))
        now = timezone.now()
        for drift in rows:
            drift.resolved_at, drift.resolved_by = now, actor
            drift.save(update_fields=["resolved_at", "resolved_by"])
            action_log_record(
                actor=actor, action="reconciliation_drift_resolve", outcome=ActionOutcome.OK, order=drift.order,
                order_bubble_id=drift.order.bubble_id if drift.order else drift.c_cod_int_os,
                payload={"drift_id": drift.pk, "kind": drift.kind, "c_cod_int_os": drift.c_cod_int_os},
                message=f"Divergência marcada como resolvida: {drift.get_kind_display()}",
            )
    return len(rows)


def pagarme_events_reprocess_by(*, events: QuerySet[PagarmeEvent], actor: str) -> int:

    unmatched = list(events.filter(status=PagarmeEvent.Status.UNMATCHED).values_list("id", "event_id", "bubble_order_id")[:500])
    count = pagarme_events_reprocess(event_ids=[pk for pk, _, _ in unmatched], actor=actor)
    for pk, event_id, bubble_order_id in unmatched:
        action_log_record(
            actor=actor, action="pagarme_event_reprocess", outcome=ActionOutcome.OK, order_bubble_id=bubble_order_id or "",
            payload={"pagarme_event_id": pk, "event_id": event_id}, message="Evento Pagar.me reenviado para processamento",
        )
    return count


def omie_webhooks_reprocess_by(*, events: QuerySet[OmieWebhookEvent], actor: str) -> int:
    rows = list(events.exclude(status=OmieWebhookEvent.Status.RECEIVED).values_list("id", "message_id", "c_cod_int_os")[:500])
    count = omie_webhook_events_reprocess(event_ids=[pk for pk, _, _ in rows])
    for pk, message_id, c_cod_int_os in rows:
        action_log_record(
            actor=actor, action="omie_webhook_reprocess", outcome=ActionOutcome.OK, order_bubble_id=c_cod_int_os or "",
            payload={"omie_webhook_event_id": pk, "message_id": message_id}, message="Webhook do Omie reenviado para processamento",
        )
    return count


def webhook_events_reprocess_by(system: str, events: QuerySet, actor: str) -> int:
    """The admin's "Reprocessar" of either webhook list: one entry point, each system's rule."""
    reprocess = {PAGARME: pagarme_events_reprocess_by, OMIE: omie_webhooks_reprocess_by}[system]
    return reprocess(events=events, actor=actor)


def order_customer_names(order_ids: Iterable[int]) -> dict[int, str]:
    return dict(Order.objects.filter(pk__in=list(order_ids)).values_list("pk", "customer_name"))


# What billing lends the webhook packages of integrations (registered in billing.apps).
WEBHOOK_BILLING = WebhookBilling(reprocess=webhook_events_reprocess_by, order_names=order_customer_names)
