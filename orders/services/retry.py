"""The ops "retry" action: re-runs the first thing that failed, in this order — a FAILED sync
(from the Bubble read), a FAILED billing (``order_billing_retry_start``), Bubble write-backs that
gave up (DEAD). A refusal is logged too, after the transaction that changed nothing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from common.exceptions import InvalidState, NotFound
from common.versioning import version_bump
from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_resend
from orders.handoff import billing
from orders.models import Order
from orders.selectors import order_retry_target
from orders.services.action_log import action_log_record
from orders.services.sync_chain import order_sync_enqueue, order_sync_next_step
from orders.services.writeback import order_writeback_sync_status
from orders.statuses import ActionOutcome, BillingStatus, SyncStatus

# The action's name (its URL segment and its action-log name) and permission: billing's ops-action
# catalog reads them from here (billing imports orders, not the other way round).
ACTION = "retry"
PERMISSION = "orders.retry_order"


def order_retry(*, bubble_id: str, actor: str, payload: dict[str, Any] | None = None) -> tuple[Order, str]:
    """Returns the order and a message saying what was re-run."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(bubble_id=bubble_id).first()
        if order is None:
            refusal: Exception = NotFound("Pedido não encontrado.", details={"order_id": bubble_id})
        elif (target := order_retry_target(order)) == "sync":
            message = _sync_restart(order=order)
            action_log_record(actor=actor, action=ACTION, outcome=ActionOutcome.OK, order=order, payload=payload, message=message)
            return order, message
        elif target == "billing":
            # The billing part of retry belongs to billing (ReenviarOS after a city hall rejection,
            # else FaturarOS after consulting the OS): handed over through orders.handoff.
            message = billing().retry(order)
            action_log_record(actor=actor, action=ACTION, outcome=ActionOutcome.OK, order=order, payload=payload, message=message)
            return order, message
        elif target == "writebacks" and (dead := _dead_writebacks(order=order)):
            message = _writebacks_resend(writebacks=dead)
            action_log_record(actor=actor, action=ACTION, outcome=ActionOutcome.OK, order=order, payload=payload, message=message)
            return order, message
        else:
            refusal = InvalidState(_nothing_to_retry(order), details=_state_details(order))

    action_log_record(
        actor=actor, action=ACTION, outcome=ActionOutcome.REJECTED, order=order, order_bubble_id=bubble_id,
        payload=payload, message=str(refusal),
    )
    refusal.logged = True  # type: ignore[attr-defined]  # the API layer must not log it twice
    raise refusal


def _sync_restart(*, order: Order) -> str:
    """FAILED → PENDING from the first step: Bubble's data is read again (ops may have fixed it)."""
    now = timezone.now()
    order.sync_status = SyncStatus.PENDING
    order.last_error = ""
    order.sync_attempts = 0
    order.sync_started_at = now
    order.next_attempt_at = now
    order.source_fetched_at = None
    version_bump(order)
    order.save()
    order_writeback_sync_status(order=order)
    transaction.on_commit(partial(order_sync_enqueue, order_id=order.id, step=order_sync_next_step(order)))
    return "Sincronização reenfileirada; os dados serão lidos novamente do Bubble."


def _dead_writebacks(*, order: Order) -> list[Any]:

    return list(BubbleWriteback.objects.filter(order_id=order.id, status=BubbleWriteback.Status.DEAD).order_by("id"))


def _writebacks_resend(*, writebacks: list[Any]) -> str:

    for writeback in writebacks:
        writeback_resend(writeback=writeback)
    return f"{len(writebacks)} atualização(ões) para o Bubble reenviada(s)."


def _nothing_to_retry(order: Order) -> str:
    billing = f", faturamento '{BillingStatus(order.billing_status).label}'" if order.billing_status else ""
    return (
        f"Nada a reprocessar: o pedido está '{SyncStatus(order.sync_status).label}'{billing} e não há atualizações "
        "para o Bubble com falha. Só é possível reprocessar pedidos com erro de sincronização ou atualizações não entregues."
    )


def _state_details(order: Order) -> dict[str, Any]:
    return {
        "sync_status": order.sync_status,
        "sync_status_label": SyncStatus(order.sync_status).label,
        "billing_status": order.billing_status,
        "billing_status_label": BillingStatus(order.billing_status).label if order.billing_status else "",
    }
