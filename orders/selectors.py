from __future__ import annotations

import re
from typing import Any

from billing.selectors import order_invoice_data
from orders.models import BUBBLE_ID_REGEX, ActionLog, Order

_BUBBLE_ID = re.compile(BUBBLE_ID_REGEX)
RECENT_ACTIONS = 20


def bubble_id_is_valid(value: str) -> bool:
    return bool(_BUBBLE_ID.fullmatch(value or ""))


def order_get(*, bubble_id: str) -> Order | None:
    return Order.objects.filter(bubble_id=bubble_id).first()


def order_recent_actions(*, order: Order, limit: int = RECENT_ACTIONS) -> list[ActionLog]:
    return list(order.actions.order_by("-created_at", "-id")[:limit])


def order_invoice_summary(*, order: Order) -> dict[str, Any] | None:
    """The order's live invoice for the API (billing.Invoice)."""
    return order_invoice_data(order=order)
