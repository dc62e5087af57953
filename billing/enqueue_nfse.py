"""The hand-off of NFS-e document work to Celery (services call this, never the task module)."""

from __future__ import annotations

from django.db import transaction

from billing.tasks.nfse_documents import nfse_archive_fetch as nfse_archive_fetch_task


def nfse_archive_enqueue_on_commit(*, archive_id: int, countdown: float | None = None) -> None:
    """One archive job, published when the caller's transaction commits."""
    if countdown:
        transaction.on_commit(lambda: nfse_archive_fetch_task.apply_async((archive_id,), countdown=countdown))
    else:
        nfse_archive_fetch_task.delay_on_commit(archive_id)
