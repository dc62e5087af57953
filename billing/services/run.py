"""The day-25 run and the due sweep (docs/contract.md#billing-and-emission): both move due orders to emission, claiming each one.

A claim is a row lock taken with ``SKIP LOCKED`` plus the status change SCHEDULED → ISSUING in the
same transaction: a second run, a catch-up firing, two beats or many workers either see the order
already ISSUING or skip the row another one holds, so no order ever gets a second emission.
The run records itself in ``BillingRun`` (one row per billing day) for ops to watch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import BillingRun
from billing.services.state import orders_emission_claim
from billing.services.work import invoices_dispatch_kick
from common.dates import today_sp
from orders.models import ActionLog, Order
from orders.statuses import ActionOutcome, BillingStatus


@dataclass(frozen=True)
class ClaimResult:
    claimed: int
    # True when the time budget ran out with due orders left: the caller continues in a new task.
    more: bool


def orders_due_claim(
    *, actor: str, today: date | None = None, batch_size: int | None = None, time_budget: float | None = None
) -> ClaimResult:
    """Moves every SCHEDULED order whose date has come to ISSUING, one batch per transaction.

    Stops after ``time_budget`` seconds (a task must end well within its time limit, whatever the
    number of orders); ``more`` then says that due orders are left.
    """
    today = today or today_sp()
    batch_size = batch_size or settings.BILLING_CLAIM_BATCH
    deadline = time.monotonic() + time_budget if time_budget else None
    total = 0
    while True:
        claimed = _claim_batch(actor=actor, today=today, batch_size=batch_size)
        total += claimed
        if claimed < batch_size:
            return ClaimResult(claimed=total, more=False)
        if deadline is not None and time.monotonic() > deadline:
            return ClaimResult(claimed=total, more=True)


def _claim_batch(*, actor: str, today: date, batch_size: int) -> int:
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update(skip_locked=True)
            .filter(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=today)
            .order_by("billing_scheduled_for", "id")[:batch_size]
        )
        if not orders:
            return 0
        # One INSERT and one UPDATE for the batch (the rows are locked), through the state module.
        orders_emission_claim(orders=orders, actor=actor, now=timezone.now())
        ActionLog.objects.bulk_create([
            ActionLog(actor=actor[:200], action="billing_emit", outcome=ActionOutcome.OK, order=o, order_bubble_id=o.bubble_id,
                      message=f"Emissão da NFS-e iniciada (faturamento de {o.billing_scheduled_for:%d/%m/%Y}).")
            for o in orders
        ])
        # The dispatcher paces the FaturarOS calls to Omie's rate; it starts once this commits.
        invoices_dispatch_kick()
    return len(orders)


def billing_day_run(*, actor: str, time_budget: float | None = None) -> tuple[BillingRun, bool]:
    """The day-25 run. Firing it again (duplicate, catch-up, second beat) changes nothing already done.

    Returns the run and whether due orders are left (the time budget ran out: continue in a new task).
    """
    today = today_sp()
    run, _ = BillingRun.objects.get_or_create(billing_date=today)
    BillingRun.objects.filter(pk=run.pk).update(firings=F("firings") + 1, last_fired_at=timezone.now())
    return _run_claim(run=run, actor=actor, today=today, time_budget=time_budget)


def billing_run_continue(*, actor: str, time_budget: float | None = None) -> tuple[BillingRun, bool]:
    """Goes on claiming for today's run after a task ran out of its time budget."""
    today = today_sp()
    run, _ = BillingRun.objects.get_or_create(billing_date=today)
    return _run_claim(run=run, actor=actor, today=today, time_budget=time_budget)


def _run_claim(*, run: BillingRun, actor: str, today: date, time_budget: float | None) -> tuple[BillingRun, bool]:
    """Claims what is due into ``run``; the run is finished once nothing due is left."""
    result = orders_due_claim(actor=actor, today=today, time_budget=time_budget)
    fields = {"claimed": F("claimed") + result.claimed}
    if not result.more:
        fields["finished_at"] = timezone.now()
    BillingRun.objects.filter(pk=run.pk).update(**fields)
    run.refresh_from_db()
    return run, result.more
