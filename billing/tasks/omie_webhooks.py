"""Omie webhook events (``default`` queue: applying an event never calls Omie itself)."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def omie_webhook_process(event_pk: int) -> str:
    from billing.services.omie_webhooks import omie_webhook_event_process

    return omie_webhook_event_process(event_pk=event_pk)


@shared_task(ignore_result=True)
def omie_webhooks_requeue() -> int:
    """Every minute: events stored but never processed (their message was lost) are sent again."""
    from integrations.omie.webhooks.services import omie_webhooks_requeue as requeue

    return requeue()
