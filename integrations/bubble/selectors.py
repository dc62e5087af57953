"""Reads of the writeback outbox (admin dashboard, the order timeline)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from integrations.bubble.models import BubbleWriteback


def writeback_list_for_order(*, order_id: int) -> QuerySet[BubbleWriteback]:
    return BubbleWriteback.objects.filter(order_id=order_id).order_by("-id")


def writeback_list_for_thing(*, thing: str, bubble_id: str) -> QuerySet[BubbleWriteback]:
    return BubbleWriteback.objects.filter(thing=thing, bubble_id=bubble_id).order_by("-id")


def writeback_counts_by_status() -> dict[str, int]:
    """Every status, zero included: ``{"PENDING": 3, "SENDING": 0, "DONE": 120, "DEAD": 1}``."""
    counts = dict.fromkeys(BubbleWriteback.Status.values, 0)
    for row in BubbleWriteback.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts
