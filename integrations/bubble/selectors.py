"""Reads of the writeback outbox (the admin dashboard)."""

from __future__ import annotations

from django.db.models import Count

from integrations.bubble.models import BubbleWriteback


def writeback_counts_by_status() -> dict[str, int]:
    """Every status, zero included: ``{"PENDING": 3, "SENDING": 0, "DONE": 120, "DEAD": 1}``."""
    counts = dict.fromkeys(BubbleWriteback.Status.values, 0)
    for row in BubbleWriteback.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts
