"""Ending an Omie dry run: every order whose writes were only recorded is re-run for real, once.

The dry run itself lives at the Omie client's boundary (integrations/omie/dryrun.py); here the
order flow picks up what it left waiting. Run by the sync sweep (every minute) and by
``manage.py omie_dry_run_replay``; does nothing while ``OMIE_DRY_RUN`` is on.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from common.versioning import version_bump
from integrations.omie.dryrun import dry_run_on, dry_run_replay_claim, dry_run_waiting_order_ids
from orders.models import Order
from orders.services.action_log import action_log_record, actor_for_task
from orders.services.sync_chain import FETCH, order_sync_enqueue
from orders.services.sync_state import order_sync_fail
from orders.statuses import ActionOutcome, SyncStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("orders.dry_run_replay")


def order_dry_run_replay() -> int:
    """Re-runs each dry-run order for real; returns how many syncs were enqueued.

    The claim of the order's records and the reset of the order commit together, so an order is
    re-run exactly once even with two sweeps at the same time or a crash in between. A synced order
    whose billing step met the dry run needs nothing here: that step retries by itself.
    """
    if dry_run_on():
        return 0
    count = 0
    for order_id in dry_run_waiting_order_ids():
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=order_id).first()
            if not dry_run_replay_claim(order_id=order_id):
                continue  # another sweep took it
            if order is None or order.sync_status != SyncStatus.PENDING:
                continue
            now = timezone.now()
            # From the first step: Bubble and BrasilAPI are read again, the customer data written back.
            order.source_fetched_at = None
            order.omie_os_requested_at = None
            order.sync_attempts = 0
            order.sync_started_at = now
            order.next_attempt_at = now
            version_bump(order)
            order.save()
            action_log_record(
                actor=ACTOR, action="dry_run_replay", outcome=ActionOutcome.OK, order=order,
                message="Ensaio desligado: o pedido será enviado ao Omie de verdade.",
            )
            transaction.on_commit(partial(order_sync_enqueue, order_id=order.pk, step=FETCH))
            count += 1
    if count:
        logger.info("dry run off: %s orders re-run for real", count)
    return count


def order_dry_run_discard(*, bubble_id: str) -> bool:
    """Ops: a dry-run order that must never reach Omie. Its records are closed and the order becomes
    "Erro de sincronização" with the reason (written to Bubble once dry run is off; 'reprocessar'
    sends it after all). Returns False when the order has nothing waiting."""

    order = Order.objects.filter(bubble_id=bubble_id).first()
    if order is None:
        return False
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).first()
        if not dry_run_replay_claim(order_id=order.pk, discard=True):
            return False
        order_sync_fail(
            order_id=order.pk, actor=ACTOR, action="dry_run_replay",
            message="Descartado após o ensaio: não enviado ao Omie. Use 'reprocessar' para enviá-lo.",
        )
    return True
