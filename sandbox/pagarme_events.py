"""Pagar.me v5-shaped webhook events for the sandbox and tests.

Several events for one order share the charge id (derived from the order id unless given), as
real ones do, so duplicates and out-of-order deliveries can be demonstrated with ``--event-id`` and
``--occurred-at``.

The charge carries what Pagar.me's does: a status among Pagar.me v5's eight (no "refunded": a full refund
is ``canceled`` with ``canceled_amount``, a partial one stays ``paid``), ``paid_amount`` and
``canceled_amount`` in cents, ``metadata.bubble_order_id`` and its order with ``code``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

EVENT_TYPES = ("charge.paid", "charge.payment_failed", "charge.refunded", "charge.partial_canceled", "charge.chargedback",
               "charge.underpaid", "charge.overpaid", "order.paid")
# The charge's status when Pagar.me sends each event.
_CHARGE_STATUS = {
    "charge.paid": "paid",
    "charge.payment_failed": "failed",
    "charge.refunded": "canceled",
    "charge.partial_canceled": "paid",
    "charge.chargedback": "chargedback",
    "charge.underpaid": "underpaid",
    "charge.overpaid": "overpaid",
    "order.paid": "paid",
}
_WITH_PAYMENT = ("paid", "canceled", "chargedback", "underpaid", "overpaid")
_ORDER_STATUS = {"paid": "paid", "underpaid": "paid", "overpaid": "paid", "chargedback": "paid", "failed": "failed",
                 "canceled": "canceled"}


def pagarme_event_build(
    *,
    event_type: str,
    bubble_order_id: str,
    amount: Decimal,
    event_id: str | None = None,
    charge_id: str | None = None,
    occurred_at: datetime | None = None,
    created_at: datetime | None = None,
    payment_method: str = "credit_card",
    paid_amount: Decimal | None = None,
    canceled_amount: Decimal | None = None,
) -> dict[str, Any]:
    """``paid_amount`` defaults to ``amount`` (0 for a failure; less/more for under/overpaid);
    ``canceled_amount`` to all of it for ``charge.refunded`` and half of it for ``charge.partial_canceled``."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"tipo de evento não suportado: {event_type}")
    created_at = created_at or datetime.now(UTC)
    occurred_at = occurred_at or created_at
    cents = int((amount * 100).to_integral_value())
    digest = hashlib.sha1(bubble_order_id.encode()).hexdigest()  # noqa: S324 - an id, not security
    charge_id = charge_id or f"ch_{digest[:16]}"
    order_id = f"or_{digest[16:32]}"
    status = _CHARGE_STATUS[event_type]
    metadata = {"bubble_order_id": bubble_order_id}
    paid = _cents(paid_amount) if paid_amount is not None else _paid_default(event_type, cents)
    charge: dict[str, Any] = {
        "id": charge_id,
        "code": bubble_order_id,
        "amount": cents,
        "paid_amount": paid,
        "status": status,
        "currency": "BRL",
        "payment_method": payment_method,
        "created_at": _ts(created_at if created_at < occurred_at else occurred_at),
        "updated_at": _ts(occurred_at),
        "metadata": metadata,
    }
    if status in _WITH_PAYMENT:
        charge["paid_at"] = _ts(occurred_at)
    canceled = _cents(canceled_amount) if canceled_amount is not None else {
        "charge.refunded": paid, "charge.partial_canceled": paid // 2}.get(event_type)
    if canceled is not None:
        charge["canceled_amount"] = canceled
    order: dict[str, Any] = {
        "id": order_id,
        "code": bubble_order_id,
        "amount": cents,
        "currency": "BRL",
        "status": _ORDER_STATUS[status],
        "metadata": metadata,
        "updated_at": _ts(occurred_at),
    }
    if event_type.startswith("order."):
        data = {**order, "charges": [charge]}
    else:
        data = {**charge, "order": order}
    return {
        "id": event_id or f"hook_{secrets.token_hex(8)}",
        "account": {"id": "acc_sandbox0000000", "name": "Blu (sandbox)"},
        "type": event_type,
        "created_at": _ts(created_at),
        "data": data,
    }


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _paid_default(event_type: str, cents: int) -> int:
    """What Pagar.me received: nothing for a failure, a tenth less / more for under/overpaid, else the amount."""
    return {"charge.payment_failed": 0, "charge.underpaid": cents - cents // 10 - 1,
            "charge.overpaid": cents + cents // 10 + 1}.get(event_type, cents)


def pagarme_event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
