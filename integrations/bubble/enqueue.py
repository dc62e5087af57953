"""The Bubble write-back's hand-off to Celery: services call this, never a task module."""

from __future__ import annotations

from integrations.tasks.bubble import writeback_deliver as writeback_deliver_task


def writeback_deliver_enqueue(*, writeback_id: int, countdown: float | None = None) -> None:
    """Delivery of one write-back row (on the bubble queue)."""
    writeback_deliver_task.apply_async((writeback_id,), countdown=countdown)
