"""Bubble writeback delivery (docs/contract.md#bubble-writeback). Thin: ids in, the service does the work.

Both tasks are safe to run any number of times, concurrently: every row is claimed in the database
before it is sent, so a duplicate message or a second worker finds nothing to do.
"""

from celery import shared_task


@shared_task(ignore_result=True)
def writeback_deliver(writeback_id: int) -> None:
    """Enqueued after the commit of ``writeback_enqueue`` (and after a short backoff)."""
    from integrations.bubble.services import writeback_deliver as deliver

    deliver(writeback_id=writeback_id)


@shared_task(ignore_result=True)
def writeback_sweep() -> None:
    """Beat, every BUBBLE_WRITEBACK_SWEEP_SECONDS: whatever is due, even if its message was lost."""
    from integrations.bubble.services import writeback_deliver_due

    writeback_deliver_due()


@shared_task(ignore_result=True)
def writeback_purge() -> None:
    """Beat, daily: delivered rows past BUBBLE_WRITEBACK_RETENTION_DAYS."""
    from integrations.bubble.services import writeback_purge_delivered

    writeback_purge_delivered()
