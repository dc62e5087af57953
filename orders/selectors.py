from __future__ import annotations

import re
from typing import Any

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
    """The order's newest invoice for the API (the live one, else the last cancelled), or None."""
    from billing.models import Invoice  # billing depends on orders, not the other way round

    invoice = Invoice.objects.filter(order=order).order_by("-created_at", "-id").first()
    if invoice is None:
        return None
    return {
        "status": invoice.status,
        "status_label": invoice.get_status_display(),
        "number": invoice.nfse_number or None,
        "verification_code": invoice.verification_code or None,
        "url": invoice.nfse_url or None,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "city_hall_message": invoice.city_hall_message or None,
        "cancel_reason_code": invoice.cancel_reason_code,
        "cancelled_at": invoice.cancelled_at.isoformat() if invoice.cancelled_at else None,
    }
