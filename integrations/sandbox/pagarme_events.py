"""Pagar.me v5-shaped webhook events for the sandbox and tests.

Several events for one order share the charge id (derived from the order id unless given), as
real ones do, so duplicates and out-of-order deliveries can be demonstrated with ``--event-id`` and
``--occurred-at``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

EVENT_TYPES = ("charge.paid", "charge.payment_failed", "charge.refunded", "charge.chargedback", "order.paid")
_CHARGE_STATUS = {
    "charge.paid": "paid",
    "charge.payment_failed": "failed",
    "charge.refunded": "refunded",
    "charge.chargedback": "chargedback",
    "order.paid": "paid",
}


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
) -> dict[str, Any]:
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
    charge: dict[str, Any] = {
        "id": charge_id,
        "code": bubble_order_id,
        "amount": cents,
        "paid_amount": cents if status in ("paid", "refunded", "chargedback") else 0,
        "status": status,
        "currency": "BRL",
        "payment_method": payment_method,
        "created_at": _ts(created_at if created_at < occurred_at else occurred_at),
        "updated_at": _ts(occurred_at),
        "metadata": metadata,
    }
    if status in ("paid", "refunded", "chargedback"):
        charge["paid_at"] = _ts(occurred_at)
    order: dict[str, Any] = {
        "id": order_id,
        "code": bubble_order_id,
        "amount": cents,
        "currency": "BRL",
        "status": "paid" if status == "paid" else ("failed" if status == "failed" else "canceled"),
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


def pagarme_event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
