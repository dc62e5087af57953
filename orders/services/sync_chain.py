"""The sync chain of an order, in one place: which step runs next.

    trigger / retry ──► fetch (Bubble, BrasilAPI) ──► omie (UpsertCliente, IncluirOS) ──► SYNCED

A step stores its work and returns; the next step is read from the order here, so the step tasks,
the sweep of stuck syncs and the ops retry (which clears ``source_fetched_at``) follow one chain.
"""

from __future__ import annotations

from orders.enqueue import order_sync_fetch_enqueue, order_sync_omie_enqueue
from orders.models import Order
from orders.statuses import SyncStatus

Step = str
FETCH: Step = "fetch"
OMIE: Step = "omie"


def order_sync_next_step(order: Order) -> Step | None:
    """The first step whose work the order lacks; None once it is no longer PENDING."""
    if order.sync_status != SyncStatus.PENDING:
        return None
    if order.source_fetched_at is None:
        return FETCH
    return OMIE  # it completes the sync (SYNCED) once the customer and the OS are in Omie


def order_sync_enqueue(*, order_id: int, step: Step) -> None:
    """Publishes the task of ``step``. Callers hold no lock and no open transaction on the order."""
    if step == FETCH:
        order_sync_fetch_enqueue(order_id=order_id)
    elif step == OMIE:
        order_sync_omie_enqueue(order_id=order_id)


def order_sync_continue(*, order_id: int) -> Step | None:
    """After a step stored its work: publishes the next one, if the order still needs one."""
    order = Order.objects.filter(pk=order_id).only("sync_status", "source_fetched_at").first()
    step = order_sync_next_step(order) if order is not None else None
    if step is not None:
        order_sync_enqueue(order_id=order_id, step=step)
    return step
