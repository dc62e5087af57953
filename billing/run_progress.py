"""The day-25 run's progress for the dashboard: due, billed (FaturarOS accepted), issued, failed, and an ETA.

Read from the run's invoices (created since its first firing by the run's own actor), through the
invoice's (status, created_at) index: a few thousand rows on a 10,000-order day, never the whole table.
The ETA divides what is left to bill by the FaturarOS rate of the last five minutes (the configured
rate before any was billed): Omie's limit, not our workers, sets the pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from billing.models import BillingRun, Invoice
from common.dates import today_sp
from orders.models import Order
from orders.services.action_log import actor_for_task
from orders.statuses import BillingStatus

RUN_ACTOR = actor_for_task("billing.billing_day_run")
RATE_WINDOW = timedelta(minutes=5)
RUN_STATUSES = [BillingStatus.ISSUING, BillingStatus.ISSUED, BillingStatus.FAILED, BillingStatus.CANCELLING,
                BillingStatus.CANCELLED, BillingStatus.MANUAL]


@dataclass(frozen=True)
class RunProgress:
    run: BillingRun
    due: int  # claimed by the run, plus what is due today and not claimed yet
    billed: int  # FaturarOS accepted by Omie
    issued: int
    failed: int
    billed_per_minute: float
    eta_billed: datetime | None  # when the last FaturarOS should go, at the current pace

    @property
    def waiting_nfse(self) -> int:
        return max(0, self.billed - self.issued - self.failed)


def billing_run_progress(*, now: datetime | None = None) -> RunProgress | None:
    """Today's run (or yesterday's, the morning after), None when there is none."""
    now = now or timezone.now()
    run = BillingRun.objects.filter(billing_date__gte=today_sp() - timedelta(days=1)).order_by("-billing_date").first()
    if run is None:
        return None
    counts = (Invoice.objects.filter(status__in=RUN_STATUSES, created_at__gte=run.first_fired_at, requested_by=RUN_ACTOR)
              .aggregate(billed=Count("id", filter=Q(faturar_accepted_at__isnull=False)),
                         issued=Count("id", filter=Q(status=BillingStatus.ISSUED)),
                         failed=Count("id", filter=Q(status=BillingStatus.FAILED)),
                         recent=Count("id", filter=Q(faturar_accepted_at__gte=now - RATE_WINDOW))))
    not_claimed = Order.objects.filter(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=run.billing_date).count()
    due = run.claimed + not_claimed
    measured = counts["recent"] / (RATE_WINDOW.total_seconds() / 60)
    rate = measured or float(settings.OMIE_RATE_PER_METHOD_PER_MINUTE)
    left = max(0, due - counts["billed"])
    eta = now + timedelta(minutes=left / rate) if left else None
    return RunProgress(run=run, due=due, billed=counts["billed"], issued=counts["issued"], failed=counts["failed"],
                       billed_per_minute=measured, eta_billed=eta)
