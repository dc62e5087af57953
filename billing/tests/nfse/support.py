"""Helpers of the NFS-e document tests: an issued invoice in the fake Omie, its archive job run in-process."""

from __future__ import annotations

from typing import Any


def issued_order(**kwargs: Any) -> Any:
    """An order billed and issued through the fake Omie (FaturarOS → StatusOS), the documents not fetched yet."""
    from billing.services.run import orders_due_claim
    from billing.tests.conftest import due_order, status_of, work_until
    from orders.statuses import BillingStatus

    order = due_order(**kwargs)
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)
    return order


def archive_now(order: Any) -> Any:
    """Runs the order's archive job in-process until it is no longer PENDING (the task does the same)."""
    from billing.models import Invoice, NfseArchive
    from billing.services.nfse_archive import nfse_archive_run

    invoice = Invoice.objects.get(order=order, status="ISSUED")
    archive = NfseArchive.objects.get(invoice=invoice)
    import time

    for _ in range(30):
        NfseArchive.objects.filter(pk=archive.pk, status="PENDING").update(next_attempt_at=archive.created_at)
        nfse_archive_run(archive_id=archive.pk)
        archive.refresh_from_db()
        if archive.status != "PENDING":
            break
        time.sleep(0.7)  # the fast fake's REDUNDANT window for one NF id (60 s × 0.01)
    return archive
