"""The billing app's hand-off to Celery: services call these functions, never a task module.

Each publishes one task by id; the task re-reads what it needs and calls the service.
"""

from __future__ import annotations

from billing.tasks import invoices_dispatch as invoices_dispatch_task
from billing.tasks.omie import invoice_step as invoice_step_task


def invoice_step_enqueue_on_commit(*, invoice_id: int, token: str) -> None:
    """One step of one invoice, published when the lease that ``token`` names is committed."""
    invoice_step_task.delay_on_commit(invoice_id, token)


def invoices_dispatch_link_enqueue(*, countdown: float | None = None) -> None:
    """The next link of the dispatcher chain (``from_link``: it frees the chain's slot when it runs)."""
    invoices_dispatch_task.apply_async(kwargs={"from_link": True}, countdown=countdown)
