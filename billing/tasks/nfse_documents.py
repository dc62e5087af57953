"""NFS-e document tasks (``omie`` queue: each one spends at most one ObterNFSe). Thin: ids in, service does the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def nfse_archive_fetch(archive_id: int) -> None:
    """Fetches and stores one invoice's PDF and XML (billing.services.nfse_archive); re-queues itself
    with the countdown the service asks for (throttle wait, or the backoff after a failure)."""
    from billing.services.nfse_archive import nfse_archive_run

    result = nfse_archive_run(archive_id=archive_id)
    if result.retry_in is not None:
        nfse_archive_fetch.apply_async((archive_id,), countdown=result.retry_in)


@shared_task(ignore_result=True)
def nfse_archives_sweep() -> int:
    """Re-queues due archive jobs whose message was lost (worker killed, Redis restarted)."""
    from billing.services.nfse_archive import nfse_archives_due_enqueue

    return nfse_archives_due_enqueue()
