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


def _omie_calls(order: Order) -> list[TimelineEntry]:
    from integrations.omie.models import OmieCall

    calls = OmieCall.objects.filter(order_id=order.pk).order_by("-created_at")[:MAX_PER_SOURCE]
    return [
        TimelineEntry(
            when=c.created_at,
            source="Omie",
            title=f"{c.call} → {c.get_outcome_display()}" + (f" (HTTP {c.http_status})" if c.http_status else ""),
            outcome="ok" if c.outcome == "ok" else "error",
            detail=" ".join(filter(None, [c.fault_code, c.fault_message])) + f" · {c.duration_ms} ms",
        )
        for c in calls
    ]


def _writebacks(order: Order) -> list[TimelineEntry]:
    from integrations.bubble.models import BubbleWriteback

    rows = BubbleWriteback.objects.filter(order_id=order.pk).order_by("-created_at")[:MAX_PER_SOURCE]
    outcome = {"DONE": "ok", "DEAD": "error"}
    return [
        TimelineEntry(
            when=w.delivered_at or w.updated_at,
            source="Bubble",
            title=f"atualização do {w.get_thing_display()} — {w.get_status_display()}",
            outcome=outcome.get(w.status, ""),
            detail=(f"{w.attempts} tentativa(s). " if w.attempts else "") + (w.last_error or ""),
            data=dict(w.fields),
        )
        for w in rows
    ]


def _task_results(order: Order) -> list[TimelineEntry]:
    from django_celery_results.models import TaskResult

    # Tasks take the order's id as their first argument or as order_id (orders/, billing/ tasks).
    results = (
        TaskResult.objects.filter(task_name__regex=r"^(orders|billing)\.")
        # django-celery-results stores the args' repr JSON-encoded ('"(5,)"'); older rows may not be.
        .filter(task_args__in=[f'"({order.pk},)"', f"({order.pk},)", f"[{order.pk}]"])
        .order_by("-date_created")[:MAX_PER_SOURCE]
    )
    return [
        TimelineEntry(
            when=r.date_done or r.date_created,
            source="Tarefa",
            title=f"{r.task_name} — {r.status}",
            outcome={"SUCCESS": "ok", "FAILURE": "error"}.get(r.status, ""),
            detail=(r.result or "")[:300] if r.status == "FAILURE" else "",
        )
        for r in results
    ]


def _webhooks(order: Order) -> list[TimelineEntry]:
    from billing.models import PagarmeEvent

    events = PagarmeEvent.objects.filter(order_id=order.pk).order_by("-received_at")[:MAX_PER_SOURCE]
    outcome = {"APPLIED": "ok", "INVALID": "error"}
    return [
        TimelineEntry(
            when=e.received_at,
            source="Pagar.me",
            title=f"{e.type} ({e.event_id}) — {e.get_status_display()}",
            outcome=outcome.get(e.status, ""),
            detail=e.message,
            data={"charge_id": e.charge_id, "charge_status": e.charge_status,
                  "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None},
        )
        for e in events
    ]


SOURCES = [_actions, _omie_calls, _writebacks, _task_results, _webhooks]


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in SOURCES:
        entries.extend(source(order))
    return sorted(entries, key=lambda e: e.when, reverse=True)
