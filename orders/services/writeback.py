"""What the order flow writes back to Bubble (docs/contract.md#bubble-writeback, docs/contract.md#bubble-data), always through the outbox.

Call these INSIDE the transaction that makes the change: the outbox row commits or rolls back
with it, so Bubble never sees a state the database does not have, and never misses one.
Field names are docs/contract.md#bubble-data's canonical ones (the Bubble client maps them per app); values are the
labels of orders.statuses and ISO dates.
"""

from __future__ import annotations

from typing import Any

from integrations.bubble.services import writeback_enqueue
from orders.models import Order
from orders.statuses import SyncStatus


def order_writeback_sync_status(*, order: Order) -> None:
    """`status_pedido`, `erro_integracao` and (once known) `omie_os_numero` of the Bubble pedido."""

    fields: dict[str, Any] = {
        "status_pedido": SyncStatus(order.sync_status).label,
        "erro_integracao": order.last_error if order.sync_status == SyncStatus.FAILED else "",
    }
    if order.omie_os_number:
        fields["omie_os_numero"] = order.omie_os_number
    writeback_enqueue(thing="order", bubble_id=order.bubble_id, fields=fields, order_id=order.id)


def customer_writeback(*, order: Order, fields: dict[str, Any]) -> None:
    """Fields of the Bubble cliente of this order (company data, `omie_cliente_id`)."""

    if order.customer_bubble_id and fields:
        writeback_enqueue(thing="customer", bubble_id=order.customer_bubble_id, fields=fields, order_id=order.id)
