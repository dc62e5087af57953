"""The order page's timeline: every source of history about one order, merged in time order.

A selector (read-only). Each source contributes ``TimelineEntry`` rows; the admin renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django_celery_results.models import TaskResult

from backoffice.action_labels import TASK_STATES, action_label, actor_label, task_label
from billing.models import ReconciliationDrift
from common.money import brl
from integrations.bubble.fields import field_label
from integrations.bubble.models import BubbleWriteback
from integrations.omie.models import OmieCall
from integrations.omie.webhooks.models import OmieWebhookEvent
from integrations.pagarme.webhooks.models import PagarmeEvent
from orders.models import Order

MAX_PER_SOURCE = 200


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    source: str  # "Ação", "Omie", "Bubble", "Pagar.me", "Tarefa"
    title: str
    outcome: str = ""  # "ok", "rejected", "error", "waiting", or "" when neutral
    detail: str = ""  # what an ops person reads: the message, the error
    meta: str = ""  # secondary facts in small print: who, HTTP status, duration, attempts
    data: dict[str, Any] = field(default_factory=dict)


def _actions(order: Order) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            when=a.created_at,
            source="Ação",
            title=action_label(a.action),
            outcome=a.outcome,
            detail=a.message,
            meta=f"por {actor_label(a.actor)}",
            data=a.payload or {},
        )
        for a in order.actions.order_by("-created_at", "-id")[:MAX_PER_SOURCE]
    ]


# What each Omie call is for, in the words of the flow.
OMIE_PURPOSE = {
    "UpsertCliente": "cadastro do cliente",
    "ConsultarCliente": "consulta do cliente",
    "AssociarCodIntCliente": "vínculo do cliente já cadastrado no Omie",
    "ListarClientes": "busca do cliente pelo CPF/CNPJ",
    "IncluirOS": "criação da OS",
    "ConsultarOS": "consulta da OS",
    "StatusOS": "consulta da NFS-e",
    "ListarOS": "conciliação",
    "FaturarOS": "faturamento da OS",
    "CancelarOS": "cancelamento da NFS-e",
    "ReenviarOS": "reenvio da NFS-e",
    "ListarNFSEs": "conciliação",
}


def _omie_calls(order: Order) -> list[TimelineEntry]:
    calls = OmieCall.objects.filter(order_id=order.pk).order_by("-created_at", "-id")[:MAX_PER_SOURCE]
    return [
        TimelineEntry(
            when=c.created_at,
            source="Omie",
            title=f"{c.call} ({OMIE_PURPOSE[c.call]})" if c.call in OMIE_PURPOSE else c.call,
            outcome="ok" if c.outcome == "ok" else "error",
            detail="" if c.outcome == "ok" else " — ".join(filter(None, [c.get_outcome_display(), c.fault_code, c.fault_message])),
            meta=" · ".join(filter(None, [f"HTTP {c.http_status}" if c.http_status else "sem resposta", f"{c.duration_ms} ms"])),
        )
        for c in calls
    ]


def _short(value: Any, limit: int = 80) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_value(key: str, value: Any) -> str:
    """A value written to Bubble as ops read it: money in reais, dates dd/mm/aaaa, empty as "(em branco)"."""
    if value in (None, ""):
        return "(em branco)"
    if key == "saldo_cc":
        return brl(value)
    if key == "data_faturamento_prevista" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    return _short(value)


def _writeback_title(w: Any) -> str:
    thing = w.get_thing_display()
    if w.status == "DONE":
        return f"{thing} atualizado no Bubble"
    return f"Atualização do {thing.lower()} no Bubble: {w.get_status_display().lower()}"


def _writebacks(order: Order) -> list[TimelineEntry]:
    rows = BubbleWriteback.objects.filter(order_id=order.pk).order_by("-created_at", "-id")[:MAX_PER_SOURCE]
    outcome = {"DONE": "ok", "DEAD": "error", "PENDING": "waiting", "SENDING": "waiting"}
    return [
        TimelineEntry(
            when=w.delivered_at or w.updated_at,
            source="Bubble",
            title=_writeback_title(w),
            outcome=outcome.get(w.status, ""),
            detail="; ".join(f"{field_label(key)}: {_field_value(key, value)}" for key, value in sorted(w.fields.items()))
            + (f". Erro: {w.last_error}" if w.last_error and w.status != "DONE" else ""),
            meta=f"{w.attempts} tentativa(s)" if w.attempts else "",
        )
        for w in rows
    ]


def _task_results(order: Order) -> list[TimelineEntry]:
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
            title=f"Tarefa: {task_label(r.task_name)} — {TASK_STATES.get(r.status, r.status)}",
            outcome={"SUCCESS": "ok", "FAILURE": "error"}.get(r.status, "waiting"),
            detail=(r.result or "")[:300] if r.status == "FAILURE" else "",
            meta="",
        )
        for r in results
    ]


# Pagar.me event types as ops say them.
PAGARME_TYPES = {
    "charge.paid": "cobrança paga",
    "order.paid": "pedido pago",
    "charge.payment_failed": "pagamento falhou",
    "charge.refunded": "estorno",
    "charge.chargedback": "chargeback",
}


def _webhooks(order: Order) -> list[TimelineEntry]:
    events = PagarmeEvent.objects.filter(order_id=order.pk).order_by("-received_at", "-id")[:MAX_PER_SOURCE]
    outcome = {"APPLIED": "ok", "UNMATCHED": "waiting", "RECEIVED": "waiting", "INVALID": "error"}
    return [
        TimelineEntry(
            when=e.received_at,
            source="Pagar.me",
            title=f"Pagar.me avisou: {PAGARME_TYPES.get(e.type, 'evento não tratado')} — {e.get_status_display()}",
            outcome=outcome.get(e.status, ""),
            detail=e.message,
            meta=" · ".join(filter(None, [
                f"evento {e.type} {e.event_id}",  # as the Pagar.me dashboard names it
                f"cobrança {e.charge_id}" if e.charge_id else "",
                f"situação {e.charge_status}" if e.charge_status else "",
                f"ocorrido em {timezone.localtime(e.occurred_at):%d/%m/%Y %H:%M:%S}" if e.occurred_at else "",
            ])),
        )
        for e in events
    ]


# Omie's event topics as ops say them (the topic itself stays out of ops' sight).
OMIE_TOPICS = {
    "NFSe.NotaAutorizada": "NFS-e autorizada pela prefeitura",
    "NFSe.NotaCancelada": "NFS-e cancelada",
    "NFSe.NotaSubstituida": "NFS-e substituída",
    "OrdemServico.Faturada": "OS faturada",
    "OrdemServico.Cancelada": "OS cancelada",
    "OrdemServico.Excluida": "OS excluída",
}
OMIE_EVENT_STATUS = {
    "RECEIVED": "a processar",
    "APPLIED": "situação atualizada",
    "NO_CHANGE": "nada a mudar",
    "DRIFT": "divergência registrada",
    "UNMATCHED": "OS não é deste sistema",
    "IGNORED_TOPIC": "aviso não tratado",
    "INVALID": "formato não reconhecido",
}


def omie_event_title(topic: str, status: str) -> str:
    """"Omie avisou: OS faturada — nada a mudar" (what ops read instead of the topic and the status code)."""
    return f"Omie avisou: {OMIE_TOPICS.get(topic, 'aviso não tratado')} — {OMIE_EVENT_STATUS.get(status, status)}"


def _omie_webhooks(order: Order) -> list[TimelineEntry]:
    """The order's Omie webhook events and the drifts recorded for it, as timeline entries."""
    outcome = {"APPLIED": "ok", "DRIFT": "error", "INVALID": "error", "RECEIVED": "waiting"}
    entries = [
        TimelineEntry(when=e.received_at, source="Omie", title=omie_event_title(e.topic, e.status),
                      outcome=outcome.get(e.status, ""), detail=e.message,
                      meta=" · ".join(filter(None, [f"NFS-e {e.nfse_number}" if e.nfse_number else "",
                                                    f"recebido {e.deliveries} vezes" if e.deliveries > 1 else ""])))
        for e in OmieWebhookEvent.objects.filter(order_id=order.pk).order_by("-received_at", "-id")[:MAX_PER_SOURCE]
    ]
    entries += [
        TimelineEntry(when=d.detected_at, source="Omie", title=f"Divergência: {d.get_kind_display()}",
                      outcome="ok" if d.resolved_at else "error", detail=d.message,
                      meta=f"{d.get_source_display()}" + (f" · resolvida por {d.resolved_by}" if d.resolved_at else ""))
        for d in ReconciliationDrift.objects.filter(order_id=order.pk).order_by("-detected_at")[:MAX_PER_SOURCE]
    ]
    return entries


SOURCES = [_actions, _omie_calls, _writebacks, _task_results, _webhooks, _omie_webhooks]


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in SOURCES:
        entries.extend(source(order))
    # Stable: entries with the same time keep their source's own (newest first) order.
    return sorted(entries, key=lambda e: e.when, reverse=True)
