"""The admin index dashboard (docs/backoffice.md): what ops need to see without opening Flower.

A selector: reads only, a handful of aggregate queries, no per-row work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.decision import next_billing_date
from billing.models import Invoice, ReconciliationDrift
from billing.run_progress import billing_run_progress
from common.dates import today_sp
from integrations.bubble.selectors import writeback_counts_by_status
from integrations.omie.selectors import omie_call_counts, omie_dashboard_panel
from integrations.omie.webhooks.services import omie_webhook_last_received_at
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, SyncStatus

logger = logging.getLogger(__name__)


@dataclass
class Dashboard:
    sync_counts: list[dict[str, Any]]
    billing_counts: list[dict[str, Any]]
    failures_24h: int
    omie_failures_24h: int
    failed_orders: int
    sync_failed: int
    billing_failed: int
    next_run_date: date
    next_run_orders: int
    next_run_amount: Decimal
    next_run_on_hold: int
    flower_url: str
    extra_panels: list[dict[str, Any]] = field(default_factory=list)
    # Grafana's dashboard (docs/observability.md), linked when GRAFANA_URL is set.
    grafana_url: str = ""


def _labelled(counts: dict[str, int], choices: type) -> list[dict[str, Any]]:
    return [{"value": value, "label": label, "count": counts.get(value, 0)} for value, label in choices.choices]


def _status_counts(run_date: date) -> tuple[dict[str, int], dict[str, int], int, Decimal]:
    """(orders per sync status, per billing status, due on ``run_date``: count and amount) in ONE pass.

    Four aggregates over a million orders were four scans of the table (1.6 s); grouped together they
    are one index-only scan of ``order_status_counts_idx`` (orders/models.py).
    """
    due = Q(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=run_date)
    rows = (Order.objects.values_list("sync_status", "billing_status")
            .annotate(n=Count("*"), due_n=Count("billing_status", filter=due), due_total=Sum("amount", filter=due)).order_by())
    sync: dict[str, int] = {}
    billing: dict[str, int] = {}
    due_n, due_total = 0, Decimal("0.00")
    for sync_status, billing_status, n, row_due_n, row_due_total in rows:
        sync[sync_status] = sync.get(sync_status, 0) + n
        billing[billing_status] = billing.get(billing_status, 0) + n
        due_n += row_due_n
        due_total += row_due_total or 0
    return sync, billing, due_n, due_total


def _writeback_panel() -> dict[str, Any]:
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


STUCK_AFTER = timedelta(hours=24)


def invoices_stuck_issuing(*, now: datetime | None = None) -> QuerySet:
    """Invoices still ``ISSUING`` with no emission request (FaturarOS / ReenviarOS / the invoice
    itself) in the last 24 h: the city hall has not answered, or the work stopped."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return (
        Invoice.objects.filter(status=BillingStatus.ISSUING)
        .annotate(issuing_since=Greatest("created_at", "faturar_requested_at", "reenviar_requested_at"))
        .filter(issuing_since__lt=cutoff)
    )


def _stuck_issuing_panel() -> dict[str, Any]:
    stuck = invoices_stuck_issuing()
    count = stuck.count()
    oldest = list(stuck.select_related("order").order_by("issuing_since")[:5])
    rows = [[i.order.customer_name or i.order.bubble_id, f"desde {timezone.localtime(i.issuing_since):%d/%m %H:%M}",
             i.poll_count] for i in oldest]
    return {
        "title": "Notas presas em emissão (> 24 h)",
        "alert": bool(count),
        "big": count,
        "text": "em emissão há mais de 24 h sem resposta da prefeitura: confira a OS no Omie" if count
        else "nenhuma nota parada em emissão",
        "head": ["Pedido", "Em emissão", "Consultas"] if rows else [],
        "rows": rows,
        "link": "orders/order/?emissao=parada" if count else "",
        "link_text": "Ver os pedidos",
    }


def billing_run_panel() -> dict[str, Any]:
    """Dashboard card: the day-25 run as it goes (due, billed, issued, failed, when the last FaturarOS goes)."""
    progress = billing_run_progress()
    if progress is None:
        return {"title": "Faturamento do dia 25", "alert": False, "big": None, "text": "nenhuma execução hoje"}
    eta = f"último FaturarOS previsto às {timezone.localtime(progress.eta_billed):%H:%M}" if progress.eta_billed else "todos faturados"
    pace = f"{progress.billed_per_minute:.0f} FaturarOS/min nos últimos 5 min" if progress.billed_per_minute else "ritmo ainda não medido"
    return {
        "title": f"Faturamento de {progress.run.billing_date:%d/%m}",
        "alert": bool(progress.failed),
        "big": f"{progress.issued} / {progress.due}",
        "text": f"NFS-e emitidas / pedidos do dia · {eta} ({pace})",
        "head": ["Devidos", "Faturados no Omie", "Aguardando a prefeitura", "Emitidas", "Com falha"],
        "rows": [[progress.due, progress.billed, progress.waiting_nfse, progress.issued, progress.failed]],
        "link": "orders/order/?billing_status__exact=FAILED" if progress.failed else "",
        "link_text": "Ver os pedidos com falha",
    }


def _panels() -> list[dict[str, Any]]:
    panels = []
    for builder in [billing_run_panel, _stuck_issuing_panel, omie_dashboard_panel, omie_webhooks_panel, _writeback_panel]:
        try:
            panels.append(builder())
        except Exception:
            logger.exception("dashboard panel %s failed", getattr(builder, "__name__", builder))
            panels.append({"title": "Painel indisponível", "alert": True, "big": None,
                           "text": f"{getattr(builder, '__name__', 'painel')}: erro ao ler os dados (veja os logs)."})
    return panels


def omie_webhooks_panel() -> dict[str, Any]:
    """Dashboard card: when the last Omie webhook arrived, and the open drifts the webhooks found."""
    last = omie_webhook_last_received_at()
    if not settings.OMIE_WEBHOOKS:
        line = "webhooks do Omie: desligados (OMIE_WEBHOOKS)"
    elif last is None:
        line = "webhooks do Omie: nenhum evento recebido ainda"
    else:
        line = f"webhooks do Omie: último evento há {int((timezone.now() - last).total_seconds())} s"
    drifts = ReconciliationDrift.objects.filter(resolved_at__isnull=True)
    count = drifts.count()
    recent = list(drifts.select_related("order").order_by("-detected_at")[:5])
    rows = [[d.get_kind_display(), d.order.customer_name or d.order.bubble_id if d.order else d.c_cod_int_os,
             f"{timezone.localtime(d.detected_at):%d/%m %H:%M:%S}"] for d in recent]
    quiet = settings.OMIE_WEBHOOKS and (last is None or (timezone.now() - last).total_seconds() > settings.OMIE_WEBHOOK_HEALTHY_SECONDS)
    return {
        "title": "Omie: webhooks e divergências",
        "alert": bool(count),
        "big": count,
        "text": f"divergências abertas com o Omie · {line}" + (" (sem eventos recentes: a consulta periódica segue valendo)"
                                                              if quiet else ""),
        "head": ["Divergência", "Pedido", "Detectada"] if rows else [],
        "rows": rows,
        "link": "billing/reconciliationdrift/?resolved_at__isempty=1",
        "link_text": "Ver as divergências",
    }


# Omie answers that are a failure of the call (not found / duplicate are normal answers of a lookup).
OMIE_FAILURES = ["business", "concurrent", "redundant", "rate_limited", "banned", "transient"]


def _omie_failures(since: datetime) -> int:
    counts = omie_call_counts(since=since)
    return sum(counts.get(outcome, 0) for outcome in OMIE_FAILURES)


def dashboard_data() -> Dashboard:
    since = timezone.now() - timedelta(hours=24)
    run_date = next_billing_date(today_sp(), settings.BILLING_DAY)
    by_sync, by_billing, due_n, due_total = _status_counts(run_date)
    sync_counts = _labelled(by_sync, SyncStatus)
    billing_counts = _labelled(by_billing, BillingStatus)
    sync_failed = next(r["count"] for r in sync_counts if r["value"] == SyncStatus.FAILED)
    billing_failed = next(r["count"] for r in billing_counts if r["value"] == BillingStatus.FAILED)
    return Dashboard(
        sync_counts=sync_counts,
        billing_counts=billing_counts,
        failures_24h=ActionLog.objects.filter(created_at__gte=since, outcome=ActionLog.Outcome.ERROR).count(),
        omie_failures_24h=_omie_failures(since),
        # An order cannot fail both ways at once (billing starts only after a successful sync).
        failed_orders=sync_failed + billing_failed,
        sync_failed=sync_failed,
        billing_failed=billing_failed,
        next_run_date=run_date,
        next_run_orders=due_n,
        next_run_amount=due_total,
        next_run_on_hold=by_billing.get(BillingStatus.ON_HOLD, 0),
        flower_url=settings.FLOWER_URL,
        extra_panels=_panels(),
        grafana_url=settings.GRAFANA_URL,
    )
