"""Omie webhook events. Applying one may ask Omie one StatusOS (through the central throttle) to
confirm what the event claims; when Omie cannot be asked now the task retries later and the event
stays ``RECEIVED`` (the requeue sweep is the backstop if the retries run out)."""

from __future__ import annotations

import random

from celery import shared_task

from common.backoff import backoff_seconds
from integrations.http import IntegrationError
from integrations.omie.webhooks.services import omie_webhooks_requeue as requeue

MAX_RETRIES = 20


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=MAX_RETRIES)
def omie_webhook_process(self, event_pk: int) -> str:
    from billing.services.omie_webhooks import EventNotNow, omie_webhook_event_process

    try:
        return omie_webhook_event_process(event_pk=event_pk)
    except EventNotNow as exc:
        raise self.retry(countdown=exc.retry_after + random.uniform(0, 2)) from exc
    except IntegrationError as exc:
        if exc.retry_after:
            raise self.retry(countdown=float(exc.retry_after) * random.uniform(1.0, 1.2)) from exc
        wait = backoff_seconds(self.request.retries + 1, base=5.0, cap=600.0, jitter=(1.0, 1.2))
        raise self.retry(countdown=wait) from exc


@shared_task(ignore_result=True)
def omie_webhooks_requeue() -> int:
    """Every minute: events stored but never processed (their message was lost) are sent again."""

    return requeue()
