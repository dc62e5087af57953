"""The Bubble trigger "Pedido criado" (SPEC §5.1): create-or-get the order, enqueue after commit.

It answers fast: no external call here. Concurrent or repeated triggers for one Bubble id meet
at the unique constraint; only the one that created the row enqueues the sync.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.models import Order
from orders.services.action_log import action_log_record
from orders.services.sync_state import FETCH, order_sync_enqueue
from orders.services.writeback import order_writeback_sync_status
from orders.statuses import ActionOutcome, SyncStatus


def order_sync_trigger(*, bubble_id: str, actor: str, payload: dict[str, Any] | None = None) -> tuple[Order, bool]:
    """Returns the order and whether this call created it (and so started its sync)."""
    now = timezone.now()
    with transaction.atomic():
        order, created = Order.objects.get_or_create(
            bubble_id=bubble_id, defaults={"sync_started_at": now, "next_attempt_at": now}
        )
        if created:
            order_writeback_sync_status(order=order)
            transaction.on_commit(partial(order_sync_enqueue, order_id=order.id, step=FETCH))
            message = "Pedido registrado; sincronização com o Omie enfileirada."
        else:
            message = f"Pedido já registrado ({SyncStatus(order.sync_status).label}); nada foi reenviado."
        action_log_record(actor=actor, action="sync_trigger", outcome=ActionOutcome.OK, order=order, payload=payload, message=message)
    return order, created
