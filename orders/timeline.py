"""The order page's timeline: every source of history about one order, merged in time order.

A selector (read-only). Each source contributes ``TimelineEntry`` rows; the admin renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orders.models import Order

MAX_PER_SOURCE = 200


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    source: str  # "Ação", "Omie", "Bubble", "Pagar.me", "Tarefa"
    title: str
    outcome: str = ""  # "ok", "rejected", "error", or "" when neutral
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _actions(order: Order) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            when=a.created_at,
            source="Ação",
            title=f"{a.action} — {a.actor}",
            outcome=a.outcome,
            detail=a.message,
            data=a.payload or {},
        )
        for a in order.actions.order_by("-created_at")[:MAX_PER_SOURCE]
    ]


SOURCES = [_actions]


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in SOURCES:
        entries.extend(source(order))
    return sorted(entries, key=lambda e: e.when, reverse=True)
