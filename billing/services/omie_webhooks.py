"""Applying Omie's webhook events to invoices (docs/omie_webhooks.md).

An event is a hint that names an OS (or an NFS-e); the invoice is found by the OS code, then the
integration key (our order's Bubble id), then the NFS-e number, and:

- ``NFSe.NotaAutorizada`` carrying the NFS-e number → the invoice is ``ISSUED`` at once; without the
  number → the invoice's StatusOS is moved to now (one consult settles it);
- ``NFSe.NotaCancelada`` → ``CANCELLED`` when we asked for the cancel; otherwise someone cancelled it
  directly in Omie: a drift record for ops, the order is not changed (as in the daily reconciliation);
- ``OrdemServico.Faturada`` → settles a FaturarOS whose outcome was unknown (no ConsultarOS needed);
- ``OrdemServico.Cancelada`` / ``.Excluida`` / ``NFSe.NotaSubstituida`` for one of our OS → drift record;
- anything else, or an OS that is not ours → kept, nothing changes.

Processing is idempotent: the event row is locked and only a ``RECEIVED`` event is processed (the
messageId is unique, so a redelivery never becomes a second row). Every invoice change is a
conditional UPDATE on the state it expects, taken with the order's row lock first (as the emission
steps do): whichever of the webhook and a running step gets there second finds nothing to do, and
a step whose lease the webhook took over stores nothing, so FaturarOS is never sent twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import FailureStage, Invoice, InvoiceStep, ReconciliationDrift
from billing.models.reconciliation import DriftKind
from billing.services.state import order_billing_status_set, order_live_invoice
from billing.services.work import invoice_enqueue, invoices_dispatch_kick
from integrations.omie.webhooks.fields import OmieEventFacts, event_facts
from integrations.omie.webhooks.models import OmieWebhookEvent
from integrations.omie.webhooks.services import omie_webhook_enqueue, omie_webhooks_healthy
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome, BillingStatus

logger = logging.getLogger(__name__)

ACTOR = "system:omie-webhook"
Status = OmieWebhookEvent.Status


def first_poll_seconds() -> float:
    """The wait before the first StatusOS after FaturarOS / ReenviarOS.

    While webhooks are on and healthy the NotaAutorizada event usually settles the invoice first, so
    the poll waits longer (and mostly never happens); when they go quiet, polling is back to normal.
    """
    if omie_webhooks_healthy():
        return max(settings.BILLING_FIRST_POLL_SECONDS, settings.BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS)
    return settings.BILLING_FIRST_POLL_SECONDS


def omie_webhook_event_process(*, event_pk: int) -> str:
    with transaction.atomic():
        event = OmieWebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != Status.RECEIVED:
            return "already_processed"
        facts = event_facts(event.payload, message_id=event.message_id)
        event.payload_format = facts.payload_format
        event.fields_seen = facts.fields_seen
        event.omie_os_code = facts.os_id
        event.c_cod_int_os = facts.c_cod_int_os
        event.nfse_number = facts.nfse_number
        if not facts.valid:
            return _close(event, Status.INVALID, facts.problem)
        handler = HANDLERS.get(facts.topic)
        if handler is None:
            return _close(event, Status.IGNORED_TOPIC, f"Tópico não tratado: {facts.topic}.")
        order, invoice = _find(facts)
        if order is None:
            return _close(event, Status.UNMATCHED, "Nenhum pedido nosso com esta OS / NF; evento guardado, nada mudou.")
        event.order_id = order.pk
        event.invoice_id = invoice.pk if invoice else None
        status, message = handler(event, facts, order, invoice)
        return _close(event, status, message)


def _close(event: OmieWebhookEvent, status: str, message: str) -> str:
    event.status = status
    event.message = message[:2000]
    event.processed_at = timezone.now()
    event.save()
    return status


def _find(facts: OmieEventFacts) -> tuple[Order | None, Invoice | None]:
    """The order by nCodOS, then by cCodIntOS (our Bubble id), then by the NFS-e number; and its invoice."""
    order = None
    if facts.os_id:
        order = Order.objects.filter(omie_os_code=facts.os_id).first()
    if order is None and facts.c_cod_int_os:
        order = Order.objects.filter(bubble_id=facts.c_cod_int_os).first()
    if order is None and facts.nfse_number:
        found = Invoice.objects.filter(nfse_number=facts.nfse_number).select_related("order").order_by("-id").first()
        order = found.order if found else None
    if order is None:
        return None, None
    if facts.nfse_number:
        numbered = order.invoices.filter(nfse_number=facts.nfse_number).order_by("-id").first()
        if numbered is not None:
            return order, numbered
    return order, order_live_invoice(order=order)


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


def _nota_autorizada(event: OmieWebhookEvent, facts: OmieEventFacts, order: Order, invoice: Invoice | None) -> tuple[str, str]:
    if invoice is None:
        return _drift(event, order, None, DriftKind.BILLED_IN_OMIE, "NFS-e autorizada no Omie para um pedido sem emissão aqui.")
    if invoice.status == BillingStatus.ISSUING:
        if facts.nfse_number and _mark_issued(invoice, facts, event):
            return Status.APPLIED, f"NFS-e {facts.nfse_number} emitida (número trazido pelo webhook)."
        if _poll_now(invoice):
            return Status.APPLIED, "Evento sem o número da NFS-e: StatusOS antecipado para agora."
        return Status.NO_CHANGE, "Nota em emissão sem consulta pendente; nada a antecipar."
    if invoice.status == BillingStatus.ISSUED:
        if facts.nfse_number and invoice.nfse_number and facts.nfse_number != invoice.nfse_number:
            return _drift(event, order, invoice, DriftKind.NUMBER_MISMATCH,
                          f"Omie autorizou a NFS-e {facts.nfse_number}; aqui a nota é {invoice.nfse_number}.")
        return Status.NO_CHANGE, "NFS-e já emitida aqui."
    if invoice.status in (BillingStatus.FAILED, BillingStatus.MANUAL):
        return _drift(event, order, invoice, DriftKind.NFSE_STATUS,
                      f"Omie autorizou uma NFS-e {facts.nfse_number or ''} com a nota aqui em {invoice.get_status_display()}.")
    return Status.NO_CHANGE, f"Nota em {invoice.get_status_display()}; autorização ignorada."


def _nota_cancelada(event: OmieWebhookEvent, facts: OmieEventFacts, order: Order, invoice: Invoice | None) -> tuple[str, str]:
    if invoice is not None and invoice.status == BillingStatus.CANCELLING:
        if _mark_cancelled(invoice, event):
            return Status.APPLIED, f"NFS-e {invoice.nfse_number} cancelada (confirmado pelo webhook)."
        return Status.NO_CHANGE, "Cancelamento já registrado."
    if invoice is not None and invoice.status == BillingStatus.CANCELLED:
        return Status.NO_CHANGE, "NFS-e já cancelada aqui."
    state = invoice.get_status_display() if invoice else "sem nota"
    return _drift(event, order, invoice, DriftKind.CANCELLED_IN_OMIE,
                  f"NFS-e {facts.nfse_number or (invoice.nfse_number if invoice else '')} cancelada diretamente no Omie; "
                  f"aqui a nota está {state}. O pedido não foi alterado: confira e decida.")


def _os_faturada(event: OmieWebhookEvent, facts: OmieEventFacts, order: Order, invoice: Invoice | None) -> tuple[str, str]:
    if invoice is None or invoice.status == BillingStatus.CANCELLED:
        return _drift(event, order, invoice, DriftKind.BILLED_IN_OMIE, "OS faturada no Omie sem emissão em andamento aqui.")
    if invoice.status == BillingStatus.ISSUING and invoice.faturar_outcome_unknown and _settle_faturar(invoice):
        return Status.APPLIED, "FaturarOS confirmado pelo webhook (sem ConsultarOS); próxima etapa: consultar a NFS-e."
    if invoice.status == BillingStatus.ISSUING and invoice.faturar_requested_at is None:
        return _drift(event, order, invoice, DriftKind.BILLED_IN_OMIE, "OS faturada no Omie antes de o FaturarOS ser enviado daqui.")
    return Status.NO_CHANGE, "Faturamento já conhecido aqui."


def _os_drift(kind: DriftKind, what: str) -> Any:
    def handler(event: OmieWebhookEvent, facts: OmieEventFacts, order: Order, invoice: Invoice | None) -> tuple[str, str]:
        if kind != DriftKind.NFSE_REPLACED and invoice is not None and invoice.status in (BillingStatus.CANCELLING,
                                                                                          BillingStatus.CANCELLED):
            return Status.NO_CHANGE, "Efeito do cancelamento pedido daqui."
        state = invoice.get_status_display() if invoice else "sem nota"
        return _drift(event, order, invoice, kind, f"{what}; aqui a nota está {state}. O pedido não foi alterado: confira e decida.")

    return handler


HANDLERS = {
    "NFSe.NotaAutorizada": _nota_autorizada,
    "NFSe.NotaCancelada": _nota_cancelada,
    "OrdemServico.Faturada": _os_faturada,
    "OrdemServico.Cancelada": _os_drift(DriftKind.OS_CANCELLED_IN_OMIE, "OS cancelada diretamente no Omie"),
    "OrdemServico.Excluida": _os_drift(DriftKind.OS_DELETED_IN_OMIE, "OS excluída diretamente no Omie"),
    "NFSe.NotaSubstituida": _os_drift(DriftKind.NFSE_REPLACED, "NFS-e substituída no Omie"),
}


# --------------------------------------------------------------------------------------------
# Writes (order row lock first, then a conditional UPDATE of the invoice)
# --------------------------------------------------------------------------------------------

# A webhook settles the invoice: whatever step was due or running is over, and its lease with it.
_WORK_DONE = {"next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "last_step_error": "",
              "lease_token": None, "leased_until": None}


def _mark_issued(invoice: Invoice, facts: OmieEventFacts, event: OmieWebhookEvent) -> bool:
    now = timezone.now()
    order = Order.objects.select_for_update().get(pk=invoice.order_id)
    updated = Invoice.objects.filter(pk=invoice.pk, status=BillingStatus.ISSUING, faturar_requested_at__isnull=False).update(
        status=BillingStatus.ISSUED, nfse_number=facts.nfse_number, verification_code=facts.verification_code or F("verification_code"),
        nfse_url=facts.nfse_url or F("nfse_url"), issued_at=now, failure_stage=FailureStage.NONE, city_hall_message="",
        faturar_accepted_at=Coalesce("faturar_accepted_at", now), updated_at=now, **_WORK_DONE,
    )
    if not updated:
        return False
    invoice.refresh_from_db()
    order_billing_status_set(order=order, status=BillingStatus.ISSUED, invoice=invoice)
    action_log_record(actor=ACTOR, action="billing_issued", outcome=ActionOutcome.OK, order=order,
                      payload={"omie_message_id": event.message_id}, message=f"NFS-e {facts.nfse_number} emitida (webhook do Omie).")
    return True


def _mark_cancelled(invoice: Invoice, event: OmieWebhookEvent) -> bool:
    now = timezone.now()
    order = Order.objects.select_for_update().get(pk=invoice.order_id)
    updated = Invoice.objects.filter(pk=invoice.pk, status=BillingStatus.CANCELLING).update(
        status=BillingStatus.CANCELLED, cancelled_at=now, cancel_accepted_at=Coalesce("cancel_accepted_at", now), cancel_error="",
        updated_at=now, **_WORK_DONE,
    )
    if not updated:
        return False
    invoice.refresh_from_db()
    order_billing_status_set(order=order, status=BillingStatus.CANCELLED, invoice=invoice)
    action_log_record(actor=ACTOR, action="nf_cancelled", outcome=ActionOutcome.OK, order=order,
                      payload={"omie_message_id": event.message_id},
                      message=f"NFS-e {invoice.nfse_number} cancelada (confirmado pelo webhook do Omie).")
    return True


def _settle_faturar(invoice: Invoice) -> bool:
    """FaturarOS reached Omie: on to the NFS-e poll, without the ConsultarOS an unknown outcome needs."""
    now = timezone.now()
    Order.objects.select_for_update().get(pk=invoice.order_id)
    return bool(Invoice.objects.filter(pk=invoice.pk, status=BillingStatus.ISSUING, next_step=InvoiceStep.FATURAR,
                                       faturar_requested_at__isnull=False, faturar_accepted_at__isnull=True).update(
        faturar_accepted_at=now, next_step=InvoiceStep.POLL_NFSE, next_poll_at=now + timedelta(seconds=first_poll_seconds()),
        poll_count=0, step_attempts=0, last_step_error="", lease_token=None, leased_until=None, updated_at=now,
    ))


def _poll_now(invoice: Invoice) -> bool:
    """The NFS-e is authorized but the event has no number: one StatusOS now settles it.

    Only a poll that is waiting is moved (a running step keeps its lease). The first consult of the
    OS since FaturarOS is not REDUNDANT; a later one still waits out Omie's window (the step checks).
    """

    now = timezone.now()
    moved = Invoice.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now), pk=invoice.pk, status=BillingStatus.ISSUING,
        next_step=InvoiceStep.POLL_NFSE, next_poll_at__gt=now,
    ).update(next_poll_at=now, updated_at=now)
    if moved:
        invoice_enqueue(invoice_id=invoice.pk)
        invoices_dispatch_kick()
    return bool(moved)


def _drift(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, kind: DriftKind, message: str) -> tuple[str, str]:
    ReconciliationDrift.objects.create(
        run=None, source=ReconciliationDrift.Source.WEBHOOK, webhook_event_id=event.pk, kind=kind, order=order,
        omie_os_code=event.omie_os_code or order.omie_os_code, c_cod_int_os=order.bubble_id,
        local_state=invoice.get_status_display() if invoice else "sem nota", omie_state=event.topic, message=message[:2000],
    )
    action_log_record(actor=ACTOR, action="omie_drift", outcome=ActionOutcome.ERROR, order=order,
                      payload={"omie_message_id": event.message_id, "topic": event.topic}, message=message)
    return Status.DRIFT, message


def omie_webhook_events_reprocess(*, event_ids: list[int]) -> int:
    """Sends events back to processing (ops: after fixing an order, or for a format now understood).

    Applying is idempotent per invoice state, so reprocessing an applied event changes nothing.
    """

    ids = list(OmieWebhookEvent.objects.filter(id__in=event_ids).exclude(status=Status.RECEIVED).values_list("id", flat=True)[:500])
    if ids:
        OmieWebhookEvent.objects.filter(id__in=ids).update(status=Status.RECEIVED, message="Reprocessamento pedido.")
        for pk in ids:
            transaction.on_commit(lambda pk=pk: omie_webhook_enqueue(pk))
    return len(ids)
