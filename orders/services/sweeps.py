"""Beat sweeps of the sync flow: re-enqueue what a lost message or a killed worker left behind."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.models import Order
from orders.services.action_log import action_log_record, actor_for_task
from orders.services.sync_chain import order_sync_enqueue, order_sync_next_step
from orders.services.sync_state import order_sync_fail
from orders.statuses import ActionOutcome, SyncStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("orders.sync_sweep")
BATCH = 500


def order_sync_sweep_stuck(*, stuck_after: timedelta | None = None) -> int:
    """Re-enqueues PENDING orders whose next attempt is overdue; returns how many.

    An order waiting for a scheduled retry has its next attempt in the future and is left alone.
    Each order is claimed by a conditional UPDATE on ``next_attempt_at``, so two sweeps (or two
    beats) never enqueue it twice in one round; a duplicate task would be harmless anyway.
    """
    now = timezone.now()
    cutoff = now - (stuck_after if stuck_after is not None else timedelta(seconds=settings.ORDERS_SYNC_STUCK_SECONDS))
    stuck = (
        Order.objects.filter(sync_status=SyncStatus.PENDING)
        .filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, updated_at__lt=cutoff))
        .order_by("next_attempt_at")
        .only(
            "id", "bubble_id", "sync_status", "next_attempt_at", "source_fetched_at", "updated_at", "sync_started_at", "created_at"
        )[:BATCH]
    )
    give_up_before = now - timedelta(seconds=settings.ORDERS_SYNC_GIVE_UP_SECONDS)
    count = 0
    for order in stuck:
        due = order.next_attempt_at
        if (order.sync_started_at or order.created_at) < give_up_before:
            # A step that keeps crashing (a bug, not an integration error) is not re-run forever.
            minutes = settings.ORDERS_SYNC_GIVE_UP_SECONDS // 60
            order_sync_fail(
                order_id=order.pk, actor=ACTOR, action="sync_resume",
                message=f"Sincronização não concluída em {minutes} min (a etapa falhou sem resposta). "
                "Verifique os logs e use 'reprocessar'.",
            )
            continue
        claimed = Order.objects.filter(pk=order.pk, sync_status=SyncStatus.PENDING, next_attempt_at=due).update(
            next_attempt_at=now, updated_at=now
        )
        if not claimed:
            continue
        step = order_sync_next_step(order)
        order_sync_enqueue(order_id=order.pk, step=step)
        since = timezone.localtime(due or order.updated_at)
        action_log_record(
            actor=ACTOR, action="sync_resume", outcome=ActionOutcome.OK, order=order,
            message=f"Sincronização parada desde {since:%d/%m %H:%M:%S}; etapa '{step}' reenfileirada.",
        )
        count += 1
    if count:
        logger.info("re-enqueued %s stuck order syncs", count)
    return count
