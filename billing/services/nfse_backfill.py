"""The documents of invoices issued before archiving existed (``manage.py nfse_archive --since``).

Resumable by construction: all state is in the archive rows (DONE ones are skipped, PENDING ones
are tried, FAILED ones only with ``retry_failed``), so a killed run is simply started again.
Omie's budget: the NF ids come from ListarNFSEs by emission date (one call per page of up to 500
NFS-e), then exactly one ObterNFSe per invoice, paced to NFSE_BACKFILL_PER_MINUTE; and billing goes
first — while invoice steps (FaturarOS, StatusOS…) are due, the backfill waits.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billing.models import Invoice, InvoiceStep, NfseArchive
from billing.services.nfse_archive import nfse_archive_request, nfse_archive_run
from common.dates import SAO_PAULO
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieNotNow
from orders.statuses import BillingStatus

LIST_PAGE_SIZE = 500
BILLING_STEPS = [InvoiceStep.FATURAR, InvoiceStep.REENVIAR, InvoiceStep.POLL_NFSE, InvoiceStep.CANCEL, InvoiceStep.POLL_CANCEL]


@dataclass
class BackfillReport:
    total: int = 0
    counts: Counter = field(default_factory=Counter)
    list_calls: int = 0
    waited_for_billing_seconds: float = 0.0


Progress = Callable[[int, int, Counter], None]


def billing_busy() -> bool:
    """True while billing has Omie work due (the day-25 run, polls): the backfill yields to it."""
    return Invoice.objects.filter(next_step__in=BILLING_STEPS, next_poll_at__lte=timezone.now()).exists()


def _candidates(since: date, until: date | None) -> Q:
    start = datetime.combine(since, dtime.min, tzinfo=SAO_PAULO)
    issued = [BillingStatus.ISSUED, BillingStatus.CANCELLING, BillingStatus.CANCELLED]
    query = Q(status__in=issued, issued_at__gte=start) & ~Q(nfse_number="")
    if until:
        query &= Q(issued_at__lt=datetime.combine(until + timedelta(days=1), dtime.min, tzinfo=SAO_PAULO))
    return query


def nfse_backfill_prepare(*, since: date, until: date | None = None) -> int:
    """Archive rows for the period's issued invoices that have none (not queued: the backfill runs them)."""
    created = 0
    for invoice in Invoice.objects.filter(_candidates(since, until), nfse_archive__isnull=True).select_related("order").iterator():
        # Not due: the beat's sweep would hand it to the worker, which neither paces nor waits for billing.
        nfse_archive_request(invoice=invoice, enqueue=False, due=False)
        created += 1
    return created


def nfse_backfill_learn_ids(*, since: date, until: date | None, report: BackfillReport) -> None:
    """NF ids of archives that lack one, from ListarNFSEs pages by emission date (few calls for many NFS-e)."""
    missing = NfseArchive.objects.filter(omie_nf_id__isnull=True, status=NfseArchive.Status.PENDING,
                                         invoice__in=Invoice.objects.filter(_candidates(since, until)))
    wanted = {(os_code, number.lstrip("0")): pk for pk, os_code, number in
              missing.values_list("pk", "invoice__order__omie_os_code", "invoice__nfse_number") if os_code}
    if not wanted:
        return
    client = get_omie_client()
    filters = {"dEmiInicial": since, "dEmiFinal": until or timezone.localdate()}
    page_number = 1
    while True:
        page = _with_throttle(lambda n=page_number: client.listar_nfses(pagina=n, registros_por_pagina=LIST_PAGE_SIZE, **filters))
        report.list_calls += 1
        for item in page.items:
            pk = wanted.pop((item.n_cod_os, item.number), None)
            if pk is not None and item.n_cod_nf:
                NfseArchive.objects.filter(pk=pk, omie_nf_id__isnull=True).update(omie_nf_id=item.n_cod_nf)
        if not page.has_next or not wanted:
            return
        page_number += 1


def _prepare(*, since: date, until: date | None, retry_failed: bool, report: BackfillReport) -> None:
    report.counts["criados"] = nfse_backfill_prepare(since=since, until=until)
    if retry_failed:
        NfseArchive.objects.filter(status=NfseArchive.Status.FAILED, invoice__in=Invoice.objects.filter(_candidates(since, until))
                                   ).update(status=NfseArchive.Status.PENDING, attempts=0, next_attempt_at=None)


def _wait_for_billing(report: BackfillReport, stop: Callable[[], bool]) -> None:
    while billing_busy() and not stop():
        started = time.monotonic()
        time.sleep(1.0)
        report.waited_for_billing_seconds += time.monotonic() - started


def _with_throttle(call: Callable) -> object:
    while True:
        try:
            return call()
        except OmieNotNow as exc:
            time.sleep(max(0.5, float(exc.retry_after or 1)))


def nfse_backfill_run(*, since: date, until: date | None = None, retry_failed: bool = False, limit: int | None = None,
                      per_minute: int | None = None, progress: Progress | None = None,
                      stop: Callable[[], bool] = lambda: False) -> BackfillReport:
    report = BackfillReport()
    _wait_for_billing(report, stop)  # the rows and the ListarNFSEs pages too: not while billing has Omie work due
    if stop():
        return report
    _prepare(since=since, until=until, retry_failed=retry_failed, report=report)
    scope = NfseArchive.objects.filter(invoice__in=Invoice.objects.filter(_candidates(since, until)))
    report.counts["já guardados"] = scope.filter(status=NfseArchive.Status.DONE).count()
    pending = list(scope.filter(status=NfseArchive.Status.PENDING).order_by("pk").values_list("pk", flat=True)[:limit])
    report.total = len(pending)
    if not pending:
        return report
    _wait_for_billing(report, stop)
    if stop():
        return report
    nfse_backfill_learn_ids(since=since, until=until, report=report)
    interval = 60.0 / max(1, per_minute or settings.NFSE_BACKFILL_PER_MINUTE)
    next_at = time.monotonic()
    for done, pk in enumerate(pending, start=1):
        if stop():
            break
        _wait_for_billing(report, stop)
        if stop():
            break
        wait = next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        next_at = max(next_at + interval, time.monotonic())
        NfseArchive.objects.filter(pk=pk, status=NfseArchive.Status.PENDING).update(next_attempt_at=timezone.now())
        result = nfse_archive_run(archive_id=pk)
        if result.outcome == "rescheduled" and result.retry_in is not None and result.retry_in < 60:
            time.sleep(result.retry_in)  # the throttle's short "not now": one more try, same pace
            result = nfse_archive_run(archive_id=pk)
        label = {"archived": "guardados", "failed": "falharam", "rescheduled": "para depois", "skipped": "em uso"}[result.outcome]
        report.counts[label] += 1
        if progress:
            progress(done, report.total, report.counts)
    return report
