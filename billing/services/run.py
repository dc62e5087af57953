"""The day-25 run and the due sweep (SPEC §5.2): both move due orders to emission, claiming each one.

A claim is a row lock taken with ``SKIP LOCKED`` plus the status change SCHEDULED → ISSUING in the
same transaction: a second run, a catch-up firing, two beats or many workers either see the order
already ISSUING or skip the row another one holds, so no order ever gets a second emission.
The run records itself in ``BillingRun`` (one row per billing day) for ops to watch.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.dates import today_sp
from billing.models import BillingRun, Invoice, InvoiceStep
from billing.services.state import order_billing_status_set
from billing.services.work import invoices_dispatch_kick
from orders.models import ActionLog, Order
from orders.statuses import ActionOutcome, BillingStatus


def orders_due_claim(*, actor: str, today: date | None = None, batch_size: int | None = None) -> int:
    """Moves every SCHEDULED order whose date has come to ISSUING, one batch per transaction."""
    today = today or today_sp()
    batch_size = batch_size or settings.BILLING_CLAIM_BATCH
    total = 0
    while True:
        with transaction.atomic():
            orders = list(
                Order.objects.select_for_update(skip_locked=True)
                .filter(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=today)
                .order_by("billing_scheduled_for", "id")[:batch_size]
            )
            if not orders:
                break
            now = timezone.now()
            invoices = Invoice.objects.bulk_create([
                Invoice(order=o, status=BillingStatus.ISSUING, requested_by=actor[:200], next_step=InvoiceStep.FATURAR, next_poll_at=now)
                for o in orders
            ])
            for order, invoice in zip(orders, invoices, strict=True):
                order_billing_status_set(order=order, status=BillingStatus.ISSUING, invoice=invoice)
            ActionLog.objects.bulk_create([
                ActionLog(actor=actor[:200], action="billing_emit", outcome=ActionOutcome.OK, order=o, order_bubble_id=o.bubble_id,
                          message=f"Emissão da NFS-e iniciada (faturamento de {o.billing_scheduled_for:%d/%m/%Y}).")
                for o in orders
            ])
            # The dispatcher paces the FaturarOS calls to Omie's rate; it starts once this commits.
            invoices_dispatch_kick()
        total += len(orders)
    return total


def billing_day_run(*, actor: str) -> BillingRun:
    """The day-25 run. Firing it again (duplicate, catch-up, second beat) changes nothing already done."""
    today = today_sp()
    run, _ = BillingRun.objects.get_or_create(billing_date=today)
    BillingRun.objects.filter(pk=run.pk).update(firings=F("firings") + 1, last_fired_at=timezone.now())
    claimed = orders_due_claim(actor=actor, today=today)
    BillingRun.objects.filter(pk=run.pk).update(claimed=F("claimed") + claimed, finished_at=timezone.now())
    run.refresh_from_db()
    return run
