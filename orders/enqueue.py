"""The orders app's hand-off to Celery: services call these functions, never a task module.

Each publishes one task by id; the task re-reads the order and calls the service.
"""

from __future__ import annotations

from orders.tasks import order_sync_fetch as order_sync_fetch_task
from orders.tasks.omie import order_sync_omie as order_sync_omie_task


def order_sync_fetch_enqueue(*, order_id: int) -> None:
    """Sync step "fetch" (Bubble, BrasilAPI) on the default queue."""
    order_sync_fetch_task.delay(order_id)


def order_sync_omie_enqueue(*, order_id: int) -> None:
    """Sync step "omie" (UpsertCliente, IncluirOS) on the omie queue."""
    order_sync_omie_task.delay(order_id)
