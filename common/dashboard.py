"""The admin index dashboard (SPEC §12): what ops need to see without opening Flower.

A selector: reads only, a handful of aggregate queries, no per-row work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from billing.dates import today_sp
from billing.decision import next_billing_date
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, SyncStatus

logger = logging.getLogger(__name__)


@dataclass
class Dashboard:
    sync_counts: list[dict[str, Any]]
    billing_counts: list[dict[str, Any]]
    failures_24h: int
    failed_orders: int
    next_run_date: date
    next_run_orders: int
    next_run_amount: Decimal
    next_run_on_hold: int
    flower_url: str
    extra_panels: list[dict[str, Any]] = field(default_factory=list)


def _counts(field_name: str, choices: type) -> list[dict[str, Any]]:
    rows = dict(Order.objects.values_list(field_name).annotate(n=Count("id")).order_by())
    return [{"value": value, "label": label, "count": rows.get(value, 0)} for value, label in choices.choices]


def _writeback_panel() -> dict[str, Any]:
    from integrations.bubble.selectors import writeback_counts_by_status

    counts = writeback_counts_by_status()
    dead = counts.get("DEAD", 0)
    return {
        "title": "Atualizações para o Bubble",
        "alert": bool(dead),
        "big": dead,
        "text": "atualizações desistidas (DEAD) — reenvie depois de corrigir a causa" if dead else "nenhuma atualização desistida",
        "rows": [["Pendentes", counts.get("PENDING", 0)], ["Enviando", counts.get("SENDING", 0)]],
        "link": "bubble/bubblewriteback/?status__exact=DEAD",
        "link_text": "Ver as desistidas",
    }


def _panels() -> list[dict[str, Any]]:
    from integrations.omie.selectors import omie_dashboard_panel

    panels = []
    for builder in [omie_dashboard_panel, _writeback_panel, *EXTRA_PANELS]:
        try:
            panels.append(builder())
        except Exception:
            logger.exception("dashboard panel %s failed", getattr(builder, "__name__", builder))
            panels.append({"title": "Painel indisponível", "alert": True, "big": None,
                           "text": f"{getattr(builder, '__name__', 'painel')}: erro ao ler os dados (veja os logs)."})
    return panels


# Apps add builders of more cards here (billing: invoices stuck in emission).
EXTRA_PANELS: list[Any] = []


def dashboard_data() -> Dashboard:
    since = timezone.now() - timedelta(hours=24)
    run_date = next_billing_date(today_sp(), settings.BILLING_DAY)
    due = Order.objects.filter(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=run_date).aggregate(
        n=Count("id"), total=Sum("amount")
    )
    return Dashboard(
        sync_counts=_counts("sync_status", SyncStatus),
        billing_counts=_counts("billing_status", BillingStatus),
        failures_24h=ActionLog.objects.filter(created_at__gte=since, outcome=ActionLog.Outcome.ERROR).count(),
        failed_orders=Order.objects.filter(Q(sync_status=SyncStatus.FAILED) | Q(billing_status=BillingStatus.FAILED)).count(),
        next_run_date=run_date,
        next_run_orders=due["n"] or 0,
        next_run_amount=due["total"] or Decimal("0.00"),
        next_run_on_hold=Order.objects.filter(billing_status=BillingStatus.ON_HOLD).count(),
        flower_url=settings.FLOWER_URL,
        extra_panels=_panels(),
    )
