"""The one seam between a stored webhook event and billing, the same for every system.

``integrations/<system>/webhooks/`` authenticates a post, stores the event and lists it in the admin;
``billing`` decides what it means. integrations never import billing (import-linter), so the
hand-over goes two ways, both named here and nowhere else:

- **Processing**: ``webhook_event_enqueue(system, pk)`` publishes billing's task **by its name**
  (``PROCESS_TASKS``), after the event's row is committed. A broker outage is not the sender's
  problem: the event stays ``RECEIVED`` and the system's requeue sweep sends it again.
- **What needs billing's rules** — the admin's "Reprocessar" (which events may go back, the
  action-log entry) and the order's label in the event lists — calls the functions billing
  registers at start-up (``billing.apps.BillingConfig.ready`` → ``webhook_billing_register``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

PAGARME = "pagarme"
OMIE = "omie"

# The billing task that applies one stored event of each system (routed to the webhooks queue).
PROCESS_TASKS = {
    PAGARME: "billing.tasks.pagarme_event_process",
    OMIE: "billing.tasks.omie_webhooks.omie_webhook_process",
}


def webhook_event_enqueue(system: str, event_pk: int, *, on_commit: bool = True) -> None:
    """Hands one stored event to billing's processing task; ``on_commit`` while its row is not committed yet."""
    if on_commit:
        transaction.on_commit(lambda: _send(system, event_pk))
    else:
        _send(system, event_pk)


def _send(system: str, event_pk: int) -> None:
    try:
        current_app.send_task(PROCESS_TASKS[system], args=[event_pk])
    except Exception:
        logger.warning("%s webhook event %s stored but not enqueued; the sweep will send it", system, event_pk, exc_info=True)


@dataclass(frozen=True)
class WebhookBilling:
    """What billing lends the webhook packages: ``reprocess(system, events, actor) -> count`` and
    ``order_names(order_ids) -> {order id: customer name}``."""

    reprocess: Callable[[str, Any, str], int]
    order_names: Callable[[Iterable[int]], dict[int, str]]


_billing: WebhookBilling | None = None


def webhook_billing_register(handlers: WebhookBilling) -> None:
    """Called once by billing's AppConfig.ready() (as ``orders.handoff.register_billing``)."""
    global _billing
    _billing = handlers


def _handlers() -> WebhookBilling:
    if _billing is None:
        raise RuntimeError("billing has not registered its webhook handlers (billing.apps.BillingConfig.ready)")
    return _billing


def webhook_events_reprocess(system: str, events: Any, *, actor: str) -> int:
    """The admin's "Reprocessar" for either system: billing's rules, billing's action log; returns how many went back."""
    return _handlers().reprocess(system, events, actor)


def webhook_order_names(order_ids: Iterable[int | None]) -> dict[int, str]:
    """The customer's name of each order id, for the event lists (one query for a page)."""
    ids = {pk for pk in order_ids if pk}
    return _handlers().order_names(ids) if ids else {}
