"""The billing app's hand-off to Celery: services call these functions, never a task module.

Each publishes one task by id; the task re-reads what it needs and calls the service.
"""

from __future__ import annotations

from billing.tasks import invoices_dispatch as invoices_dispatch_task
from billing.tasks import pagarme_event_process as pagarme_event_process_task
from billing.tasks.omie import invoice_step as invoice_step_task


def invoice_step_enqueue_on_commit(*, invoice_id: int, token: str) -> None:
    """One step of one invoice, published when the lease that ``token`` names is committed."""
    invoice_step_task.delay_on_commit(invoice_id, token)


def invoices_dispatch_link_enqueue(*, countdown: float | None = None) -> None:
    """The next link of the dispatcher chain (``from_link``: it frees the chain's slot when it runs)."""
    invoices_dispatch_task.apply_async(kwargs={"from_link": True}, countdown=countdown)


def pagarme_event_process_enqueue(*, event_pk: int, on_commit: bool) -> None:
    """Processing of one stored Pagar.me event; ``on_commit`` when the event row is not committed yet."""
    if on_commit:
        pagarme_event_process_task.delay_on_commit(event_pk)
    else:
        pagarme_event_process_task.delay(event_pk)
