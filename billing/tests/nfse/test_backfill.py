"""manage.py nfse_archive --since: resumable, one ObterNFSe per invoice, billing first."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Invoice, NfseArchive
from billing.services.nfse_backfill import nfse_backfill_run
from billing.tests.conftest import processed
from billing.tests.nfse.support import issued_order

pytestmark = pytest.mark.django_db(transaction=True)


def _forget_archives() -> None:
    """The invoices as they were before archiving existed: issued, no archive row."""
    NfseArchive.objects.filter(documents__isnull=True).delete()


def test_the_backfill_resumes_where_it_stopped_and_asks_omie_once_per_invoice(fake_omie, nfse_files):
    orders = [issued_order() for _ in range(3)]
    _forget_archives()
    today = timezone.localdate().isoformat()

    out = StringIO()
    call_command("nfse_archive", "--since", today, "--limit", "1", "--per-minute", "6000", stdout=out, stderr=StringIO())
    assert "guardadas agora: 1" in out.getvalue()
    assert NfseArchive.objects.filter(status="DONE").count() == 1 and NfseArchive.objects.count() == 3

    out = StringIO()
    call_command("nfse_archive", "--since", today, "--per-minute", "6000", stdout=out, stderr=StringIO())
    assert "guardadas agora: 2" in out.getvalue() and "já guardadas antes: 1" in out.getvalue()
    assert NfseArchive.objects.filter(status="DONE").count() == 3
    assert processed(fake_omie, "ObterNFSe") == 3
    # The NF ids came from ListarNFSEs by date: one page per run, not one list per invoice.
    assert len(fake_omie.calls("ListarNFSEs")) <= 2

    call_command("nfse_archive", "--since", today, stdout=StringIO(), stderr=StringIO())
    assert processed(fake_omie, "ObterNFSe") == 3  # nothing left: nothing asked
    assert {o.pk for o in orders} == set(Invoice.objects.filter(nfse_archive__status="DONE").values_list("order_id", flat=True))


def test_the_backfill_waits_while_billing_has_omie_work_due(fake_omie, nfse_files):
    from billing.tests.factories import order_in_state

    issued_order()
    _forget_archives()
    busy = order_in_state("ISSUING")  # a due StatusOS poll: billing's turn
    assert Invoice.objects.filter(order=busy, next_step="POLL_NFSE").exists()
    deadline = time.monotonic() + 2.5
    report = nfse_backfill_run(since=timezone.localdate(), per_minute=6000, stop=lambda: time.monotonic() > deadline)
    assert processed(fake_omie, "ObterNFSe") == 0
    assert report.waited_for_billing_seconds >= 1.0
    # Not even the rows and the ListarNFSEs pages: the day-25 run has the machine and Omie's budget first.
    assert processed(fake_omie, "ListarNFSEs") == 0 and not NfseArchive.objects.exists()


def test_the_sweep_leaves_the_backfills_archives_to_the_backfill(fake_omie, nfse_files):
    """The beat's sweep re-queues lost archive jobs to the worker, which neither paces nor waits for
    billing: the backfill's rows are not due until the backfill reaches them (issue 23's bench)."""
    from billing.services.nfse_archive import nfse_archives_due_enqueue
    from billing.services.nfse_backfill import nfse_backfill_prepare

    issued_order()
    issued_order()
    _forget_archives()
    assert nfse_backfill_prepare(since=timezone.localdate()) == 2
    assert NfseArchive.objects.filter(status="PENDING", next_attempt_at__isnull=True).count() == 2
    assert nfse_archives_due_enqueue() == 0

    report = nfse_backfill_run(since=timezone.localdate(), per_minute=6000)
    assert report.counts["guardados"] == 2 and processed(fake_omie, "ObterNFSe") == 2
