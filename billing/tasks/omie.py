"""Billing tasks that call Omie (routed to the ``omie`` queue). Thin: ids in, service does the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def invoice_step(invoice_id: int, token: str) -> None:
    """Runs one step of one invoice, if ``token`` still holds its lease (see billing.services.work)."""
    from billing.services.emission import invoice_step_run

    result = invoice_step_run(invoice_id=invoice_id, token=token)
    if result.retry_in is not None and result.lease is not None:
        # A short throttle wait: the lease was extended to cover it, the next message takes it over.
        invoice_step.apply_async((invoice_id, str(result.lease)), countdown=result.retry_in)
    elif result.outcome == "rescheduled":
        # The next step is in the database; make sure a dispatcher chain is there to hand it out.
        from billing.services.work import invoices_dispatch_kick

        invoices_dispatch_kick()


@shared_task(ignore_result=True, acks_late=True)
def reconciliation_step(run_id: int, source: str, page: int, tries: int = 0) -> None:
    from billing.services.reconciliation import reconciliation_page

    result = reconciliation_page(run_id=run_id, source=source, page=page, tries=tries)
    if result.next_source is not None and result.next_page is not None:
        reconciliation_step.apply_async((run_id, result.next_source, result.next_page, result.tries), countdown=result.retry_in or 0)


@shared_task(ignore_result=True)
def nfse_bulk_confirm() -> int:
    """Settles the invoices Omie's NFS-e list shows issued (beat, every BILLING_NFSE_BULK_INTERVAL_SECONDS)."""
    from billing.services.nfse_bulk import nfse_bulk_confirm as confirm

    return confirm().confirmed
