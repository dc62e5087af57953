from __future__ import annotations

import re
from typing import Any

from integrations.bubble.models import BubbleWriteback
from orders.handoff import billing
from orders.models import BUBBLE_ID_REGEX, ActionLog, Order
from orders.statuses import BillingStatus, SyncStatus

_BUBBLE_ID = re.compile(BUBBLE_ID_REGEX)
RECENT_ACTIONS = 20


def bubble_id_is_valid(value: str) -> bool:
    return bool(_BUBBLE_ID.fullmatch(value or ""))


def order_get(*, bubble_id: str) -> Order | None:
    return Order.objects.filter(bubble_id=bubble_id).first()


def order_recent_actions(*, order: Order, limit: int = RECENT_ACTIONS) -> list[ActionLog]:
    return list(order.actions.order_by("-created_at", "-id")[:limit])


def order_invoice_summary(*, order: Order) -> dict[str, Any] | None:
    """The order's live invoice for the API, as billing shows it (through orders.handoff)."""
    return billing().invoice_data(order)


def order_retry_target(order: Order) -> str | None:
    """What the ops "retry" re-runs on this order: "sync", "billing", "writebacks", or None (nothing failed).

    The one rule for "can this order be retried": the retry service applies it under the order's row
    lock, the buttons read it to show or grey out "Reprocessar".
    """
    if order.sync_status == SyncStatus.FAILED:
        return "sync"
    if order.billing_status == BillingStatus.FAILED:
        return "billing"
    if BubbleWriteback.objects.filter(order_id=order.pk, status=BubbleWriteback.Status.DEAD).exists():
        return "writebacks"
    return None
