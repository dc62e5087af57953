"""The business gauges, computed by a worker every ``METRICS_SNAPSHOT_SECONDS`` and stored in Redis as JSON.

Why a snapshot and not queries at scrape time: the counts run over tables of 100,000+ rows; done in the
scrape they would cost every Prometheus replica, every 15 s, tens of milliseconds of database time and
make ``/metrics`` slow exactly when the database is. Here they run once per period, in a worker, and the
scrape reads one Redis key. Its own age is a metric (``blu_domain_snapshot_timestamp_seconds``), so a
snapshot that stopped being written is itself an alert.

Every series is ``{"name", "help", "labels", "value"}``; label values come from closed sets (statuses,
reasons, city-hall codes matched by a strict pattern), never a document, e-mail, token or order id.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from billing.decision import billing_day_of
from billing.models import BillingRun, Invoice
from billing.models.invoice import FailureStage
from common.dates import today_sp
from integrations.bubble.models import BubbleWriteback
from integrations.omie.webhooks.models import OmieEventStatus, OmieWebhookEvent
from integrations.pagarme.webhooks.models import EventStatus, PagarmeEvent, PagarmeWebhookRefusal
from orders.models import Order
from orders.statuses import BillingStatus, HoldReason, SyncStatus

SNAPSHOT_KEY = "blu:metrics:domain"
# Kept past several periods so a late scrape still sees the last values (and their age).
SNAPSHOT_TTL_SECONDS = 3600
# City-hall codes become label values: only short codes (E160, 1234, L001), at most this many.
_CODE = re.compile(r"^\s*(?:c[oó]digo\s*)?([A-Z]{0,3}\d{1,5})\b", re.IGNORECASE)
MAX_REJECTION_CODES = 20


@dataclass
class Series:
    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0


def rejection_code(message: str) -> str:
    """The city hall's code at the start of its message (``E160 - ...``), or ``sem_codigo``."""
    match = _CODE.match(message or "")
    return match.group(1).upper() if match else "sem_codigo"


def _orders(now: datetime) -> list[Series]:
    out: list[Series] = []
    rows = dict(Order.objects.values_list("sync_status").annotate(n=Count("id")).order_by())
    for status in SyncStatus.values:
        out.append(Series("blu_orders", "Pedidos por situação de sincronização com o Omie.", rows.get(status, 0), {"sync_status": status}))
    held = Order.objects.filter(billing_status=BillingStatus.ON_HOLD)
    by_reason = dict(held.values_list("hold_reason").annotate(n=Count("id")).order_by())
    for reason in HoldReason.values:
        out.append(Series("blu_holds_awaiting_approval", "Pedidos retidos aguardando aprovação, por motivo.",
                          by_reason.get(reason, 0), {"reason": reason}))
    # A hold has no "held since" column: its age counts from the day it should have been billed (or the
    # order's creation when it has none), which is what finance cares about.
    oldest = held.aggregate(d=Min("billing_scheduled_for"), c=Min("created_at"))
    candidates = [oldest["c"]]
    if oldest["d"] is not None:
        candidates.append(timezone.make_aware(datetime.combine(oldest["d"], datetime.min.time()), timezone.get_default_timezone()))
    since = min((c for c in candidates if c is not None), default=None)
    out.append(Series("blu_holds_oldest_age_seconds", "Idade da retenção mais antiga aguardando aprovação.", _age(now, since)))
    return out


def _invoices(now: datetime) -> list[Series]:
    out: list[Series] = []
    rows = dict(Invoice.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in sorted(rows):
        out.append(Series("blu_invoices", "Notas por situação.", rows[status], {"status": status}))
    issuing = Invoice.objects.filter(status=BillingStatus.ISSUING)
    oldest = issuing.aggregate(t=Min(Greatest("created_at", Coalesce("faturar_requested_at", "created_at"),
                                              Coalesce("reenviar_requested_at", "created_at"))))["t"]
    out.append(Series("blu_invoice_issuing_oldest_age_seconds",
                      "Idade da nota há mais tempo em emissão (desde o último pedido de emissão).",
                      _age(now, oldest)))
    minutes = settings.METRICS_NFSE_MISSING_AFTER_MINUTES
    missing = issuing.filter(nfse_number="", faturar_accepted_at__lt=now - timedelta(minutes=minutes)).count()
    out.append(Series("blu_invoices_billed_without_nfse", f"OS faturadas há mais de {minutes} min ainda sem número de NFS-e.", missing,
                      {"older_than_minutes": str(minutes)}))
    hour_ago = now - timedelta(hours=1)
    rejected = (Invoice.objects.filter(status=BillingStatus.FAILED, failure_stage=FailureStage.NFSE,
                                       updated_at__gte=now - timedelta(hours=24))
                .values_list("city_hall_message", "updated_at"))
    by_code: dict[str, list[int]] = {}
    for message, updated_at in rejected:
        counts = by_code.setdefault(rejection_code(message), [0, 0])
        counts[0] += 1
        counts[1] += updated_at >= hour_ago
    for code, (day, hour) in sorted(by_code.items(), key=lambda kv: -kv[1][0])[:MAX_REJECTION_CODES]:
        labels = {"code": code}
        out.append(Series("blu_invoice_rejections_24h", "NFS-e rejeitadas pela prefeitura nas últimas 24 h, por código.", day, labels))
        out.append(Series("blu_invoice_rejections_1h", "NFS-e rejeitadas pela prefeitura na última hora, por código.", hour, labels))
    issued_1h = Invoice.objects.filter(status=BillingStatus.ISSUED, issued_at__gte=hour_ago).count()
    out.append(Series("blu_invoices_issued_1h", "NFS-e emitidas na última hora.", issued_1h))
    return out


def _billing_day(now: datetime) -> list[Series]:
    today = today_sp()
    midnight = timezone.make_aware(datetime.combine(today, datetime.min.time()), timezone.get_default_timezone())
    is_day = today == billing_day_of(today.year, today.month, settings.BILLING_DAY)
    run = BillingRun.objects.filter(billing_date=today).first()
    due_today = Order.objects.filter(billing_scheduled_for=today).count()
    waiting = Order.objects.filter(billing_status=BillingStatus.SCHEDULED, billing_scheduled_for__lte=today).count()
    billed = Invoice.objects.filter(faturar_accepted_at__gte=midnight).count()
    issued = Invoice.objects.filter(issued_at__gte=midnight).count()
    help_day = "Faturamento do dia (America/Sao_Paulo): "
    return [
        Series("blu_billing_day_today", help_day + "1 quando hoje é o dia de faturamento (BILLING_DAY).", float(is_day)),
        Series("blu_billing_run_started_today", help_day + "1 quando a execução de hoje começou.", float(run is not None)),
        Series("blu_billing_run_finished_today", help_day + "1 quando a execução de hoje terminou de enviar tudo à emissão.",
               float(bool(run and run.finished_at))),
        Series("blu_billing_orders_due_today", help_day + "pedidos com faturamento previsto para hoje.", due_today),
        Series("blu_billing_orders_waiting", help_day + "pedidos agendados já vencidos ainda não enviados à emissão.", waiting),
        Series("blu_billing_os_billed_today", help_day + "OS faturadas hoje (FaturarOS aceito).", billed),
        Series("blu_billing_nfse_issued_today", help_day + "NFS-e emitidas hoje.", issued),
    ]


def _outbox(now: datetime) -> list[Series]:
    live = [BubbleWriteback.Status.PENDING, BubbleWriteback.Status.SENDING, BubbleWriteback.Status.DEAD]
    rows = dict(BubbleWriteback.objects.filter(status__in=live).values_list("status").annotate(n=Count("id")).order_by())
    out = [Series("blu_bubble_outbox", "Escritas para o Bubble por situação (entregues não contam).", rows.get(s, 0), {"status": s})
           for s in live]
    oldest = BubbleWriteback.objects.filter(status__in=live[:2]).aggregate(t=Min("created_at"))["t"]
    out.append(Series("blu_bubble_outbox_oldest_age_seconds", "Idade da escrita pendente mais antiga para o Bubble.", _age(now, oldest)))
    return out


def _webhooks(now: datetime) -> list[Series]:
    day_ago = now - timedelta(hours=24)
    out: list[Series] = []
    for source, model, received, unmatched in (
        ("pagarme", PagarmeEvent, EventStatus.RECEIVED, EventStatus.UNMATCHED),
        ("omie", OmieWebhookEvent, OmieEventStatus.RECEIVED, OmieEventStatus.UNMATCHED),
    ):
        agg = model.objects.aggregate(
            last=Max("received_at"),
            oldest_pending=Min("received_at", filter=Q(status=received)),
            pending=Count("id", filter=Q(status=received)),
            unmatched=Count("id", filter=Q(status=unmatched, received_at__gte=day_ago)),
        )
        labels = {"source": source}
        out += [
            Series("blu_webhook_last_received_timestamp_seconds", "Quando chegou o último webhook.",
                   agg["last"].timestamp() if agg["last"] else 0.0, labels),
            Series("blu_webhook_pending", "Webhooks recebidos ainda não processados.", agg["pending"], labels),
            Series("blu_webhook_lag_seconds", "Idade do webhook recebido mais antigo ainda não processado.",
                   _age(now, agg["oldest_pending"]), labels),
            Series("blu_webhook_unmatched_24h", "Webhooks das últimas 24 h que não correspondem a nenhum pedido/OS nosso.",
                   agg["unmatched"], labels),
        ]
    refused = PagarmeWebhookRefusal.objects.filter(received_at__gte=day_ago).count()
    out.append(Series("blu_webhook_refusals_24h", "Webhooks recusados (assinatura/autenticação) nas últimas 24 h.", refused,
                      {"source": "pagarme"}))
    return out


SECTIONS = (_orders, _invoices, _billing_day, _outbox, _webhooks)


def domain_snapshot_compute(*, now: datetime | None = None) -> list[Series]:
    now = now or timezone.now()
    series: list[Series] = []
    for section in SECTIONS:
        series += section(now)
    return series


def domain_snapshot_write(*, client: redis.Redis) -> int:
    """Computes the snapshot and stores it; returns how many series it has."""
    started = time.monotonic()
    series = domain_snapshot_compute()
    payload = {"at": time.time(), "duration": time.monotonic() - started, "series": [asdict(s) for s in series]}
    client.set(SNAPSHOT_KEY, json.dumps(payload), ex=SNAPSHOT_TTL_SECONDS)
    return len(series)


def domain_snapshot_read(*, client: redis.Redis) -> dict | None:
    raw = client.get(SNAPSHOT_KEY)
    return json.loads(raw) if raw else None
