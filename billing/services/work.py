"""The invoice work queue: who may work on an invoice, and when its next Omie call happens.

Every Omie call of billing is one step of one invoice (``Invoice.next_step`` at ``next_poll_at``),
worked under a lease: the dispatcher (or ``invoice_enqueue``) leases due invoices, at most one
dispatch interval of Omie's rate per step kind, and enqueues each step with the lease token; the
task swaps the token for its own lease (a duplicate message finds it gone); the step stores its
result only while it holds the lease. The database, not the broker, remembers what is due: a dead
worker's lease runs out and the next dispatch hands the invoice out again.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.enqueue import invoice_step_enqueue_on_commit, invoices_dispatch_link_enqueue
from billing.models import Invoice, InvoiceStep
from common.backoff import backoff_seconds as backoff

ACTIVE_STEPS = [s for s in InvoiceStep if s != InvoiceStep.NONE]
CHAIN_KEY = "billing:dispatch:next-link"


def backoff_seconds(attempt: int) -> float:
    """Bounded exponential backoff with a little jitter, never below Omie's same-OS window."""
    delay = backoff(attempt, base=settings.BILLING_RETRY_BASE_SECONDS, cap=settings.BILLING_RETRY_MAX_SECONDS,
                    jitter=(1.0, 1.15))
    return max(settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS, delay)


def lease_free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def dispatch_cap() -> int:
    """Steps of one kind that may be queued or running at once: one interval of Omie's rate, plus slack."""
    per_interval = settings.OMIE_RATE_PER_METHOD_PER_MINUTE * settings.BILLING_DISPATCH_INTERVAL_SECONDS / 60
    return max(2, math.ceil(per_interval * 1.25) + 2)


def invoice_enqueue(*, invoice_id: int) -> bool:
    """Leases one due invoice and enqueues its step after commit (immediate work skips the dispatcher)."""
    now = timezone.now()
    token = uuid.uuid4()
    leased = (
        Invoice.objects.filter(lease_free(now), pk=invoice_id, next_poll_at__lte=now)
        .exclude(next_step=InvoiceStep.NONE)
        .update(lease_token=token, leased_until=now + timedelta(seconds=settings.BILLING_DISPATCH_LEASE_SECONDS))
    )
    if leased:
        invoice_step_enqueue_on_commit(invoice_id=invoice_id, token=str(token))
    return bool(leased)


def invoices_dispatch() -> int:
    """Hands leases to due invoices, oldest first, at most ``dispatch_cap()`` in flight per step kind."""
    now = timezone.now()
    token = uuid.uuid4()
    cap = dispatch_cap()
    with transaction.atomic():
        ids: list[int] = []
        for step in ACTIVE_STEPS:
            in_flight = Invoice.objects.filter(next_step=step, leased_until__gte=now).count()
            room = cap - in_flight
            if room <= 0:
                continue
            due = (
                Invoice.objects.select_for_update(skip_locked=True)
                .filter(lease_free(now), next_step=step, next_poll_at__lte=now)
                .order_by("next_poll_at", "id")
                .values_list("id", flat=True)[:room]
            )
            ids.extend(due)
        if ids:
            lease_until = now + timedelta(seconds=settings.BILLING_DISPATCH_LEASE_SECONDS)
            Invoice.objects.filter(id__in=ids).update(lease_token=token, leased_until=lease_until)
            for invoice_id in ids:
                invoice_step_enqueue_on_commit(invoice_id=invoice_id, token=str(token))
    return len(ids)


def invoices_work_pending_soon(*, within_seconds: float) -> bool:
    horizon = timezone.now() + timedelta(seconds=within_seconds)
    return Invoice.objects.exclude(next_step=InvoiceStep.NONE).filter(next_poll_at__lte=horizon).exists()


def invoices_dispatch_chain(*, from_link: bool) -> int:
    """One dispatch, then the next link of the chain while work is due soon (at most one link waits).

    Beat also runs the dispatcher on a fixed interval, which restarts the chain after a worker loss.
    """
    if from_link:
        cache.delete(CHAIN_KEY)
    dispatched = invoices_dispatch()
    interval = settings.BILLING_DISPATCH_INTERVAL_SECONDS
    if invoices_work_pending_soon(within_seconds=max(120.0, 4 * settings.BILLING_FIRST_POLL_SECONDS)):
        if cache.add(CHAIN_KEY, "1", timeout=int(interval + 60)):
            invoices_dispatch_link_enqueue(countdown=interval)
    return dispatched


def invoices_dispatch_kick() -> None:
    """Starts a dispatch chain after commit unless one is already waiting."""
    def kick() -> None:
        if cache.add(CHAIN_KEY, "1", timeout=int(settings.BILLING_DISPATCH_INTERVAL_SECONDS + 60)):
            invoices_dispatch_link_enqueue()

    transaction.on_commit(kick)


def invoice_lease_take(*, invoice_id: int, token: str) -> uuid.UUID | None:
    """Exchanges the dispatch token for the worker's own lease; None if someone else has it now."""
    now = timezone.now()
    lease = uuid.uuid4()
    taken = Invoice.objects.filter(pk=invoice_id, lease_token=token).update(
        lease_token=lease, leased_until=now + timedelta(seconds=settings.BILLING_WORK_LEASE_SECONDS)
    )
    return lease if taken else None


def invoice_lease_extend(*, invoice_id: int, lease: uuid.UUID, seconds: float) -> bool:
    until = timezone.now() + timedelta(seconds=seconds + settings.BILLING_WORK_LEASE_SECONDS)
    return bool(Invoice.objects.filter(pk=invoice_id, lease_token=lease).update(leased_until=until))
