"""Applying Omie's webhook events to invoices (docs/omie_webhooks.md).

An event is a hint, never proof: its only authentication is the token in the URL (and the envelope's
``appKey``, which must be ours), so no invoice becomes issued or cancelled and nothing reaches Bubble
because an event said so. What an event can do:

- name an OS whose invoice is waiting for Omie: the step that asks Omie (StatusOS, or ConsultarOS after
  a write of unknown outcome) is moved to now, and that answer decides, as it would at the next poll;
- name an OS whose invoice is not waiting (issued, failed, manual, none): one StatusOS is asked here,
  and a drift record for ops is written only when Omie's own answer disagrees with ours;
- anything else, or an OS that is not ours → kept, nothing changes.

Processing is idempotent: only a ``RECEIVED`` event is processed, under its row lock (the messageId is
unique, so a redelivery never becomes a second row). Omie is asked before that lock is taken (a call
never runs inside a transaction), and the decision is taken again under the order's and the event's
locks with whatever state is current then.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import Invoice, InvoiceStep, ReconciliationDrift
from billing.models.reconciliation import DriftKind
from billing.services.nfse_archive import nfse_archive_nf_id_hint
from billing.services.state import order_live_invoice
from billing.services.work import invoice_enqueue, invoices_dispatch_kick
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieNotFound
from integrations.omie.types import NfseStatus
from integrations.omie.webhooks.fields import OmieEventFacts, event_facts
from integrations.omie.webhooks.models import OmieWebhookEvent
from integrations.omie.webhooks.services import omie_webhooks_healthy
from integrations.webhooks import OMIE, webhook_event_enqueue
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
    from billing.services.nfse_bulk import nfse_bulk_active  # (nfse_bulk → emission → this module)

    if nfse_bulk_active():
        # Many invoices wait: Omie's NFS-e list settles them in pages of 500; StatusOS is for the rest.
        return max(settings.BILLING_FIRST_POLL_SECONDS, settings.BILLING_FIRST_POLL_WITH_BULK_SECONDS)
    if omie_webhooks_healthy():
        return max(settings.BILLING_FIRST_POLL_SECONDS, settings.BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS)
    return settings.BILLING_FIRST_POLL_SECONDS


class EventNotNow(Exception):
    """The event cannot be applied yet: the OS was read less than Omie's same-OS window ago, or the
    invoice's step is running right now. The task tries again in ``retry_after`` seconds."""

    def __init__(self, retry_after: float, why: str) -> None:
        super().__init__(f"{why}; nova tentativa em {retry_after:.0f} s")
        self.retry_after = max(0.5, retry_after)


@dataclass(frozen=True)
class OmieAnswer:
    """What Omie itself said about the OS when it was asked for this event."""

    status: NfseStatus | None = None
    missing: bool = False  # StatusOS: "OS não cadastrada" (deleted in Omie)

    def describe(self) -> str:
        if self.missing:
            return "OS não encontrada no Omie"
        if self.status is None:
            return "não consultado"
        labels = {"pending": "sem NFS-e autorizada", "issued": f"NFS-e {self.status.number} autorizada",
                  "rejected": "RPS rejeitado", "cancelled": "NFS-e cancelada"}
        return labels.get(self.status.state, self.status.state)


def omie_webhook_event_process(*, event_pk: int) -> str:
    """Processes one stored event; raises ``EventNotNow``/``IntegrationError`` when it cannot be applied
    now (the task retries; the event stays ``RECEIVED``)."""
    event = OmieWebhookEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status != Status.RECEIVED:
        return "already_processed"
    facts = event_facts(event.payload, message_id=event.message_id)
    order, invoice = _find(facts) if _acceptable(facts) is None else (None, None)
    answer = _ask_omie(order, invoice) if order is not None and _needs_omie(facts, invoice) else None

    with transaction.atomic():
        if order is not None:
            Order.objects.select_for_update().filter(pk=order.pk).first()  # order before invoice, as every writer does
        event = OmieWebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != Status.RECEIVED:
            return "already_processed"
        _store_facts(event, facts)
        problem = _acceptable(facts)
        if problem is not None:
            return _close(event, Status.INVALID, problem)
        handler = HANDLERS.get(facts.topic)
        if handler is None:
            return _close(event, Status.IGNORED_TOPIC, f"Tópico não tratado: {facts.topic}.")
        if order is None:
            return _close(event, Status.UNMATCHED, "Nenhum pedido nosso com esta OS; evento guardado, nada mudou.")
        invoice = order_live_invoice(order=order) if invoice is None else Invoice.objects.get(pk=invoice.pk)
        event.order_id = order.pk
        event.invoice_id = invoice.pk if invoice else None
        if answer is None and _needs_omie(facts, invoice):
            # The state moved while Omie was (not) asked: decide again on the next delivery of the task.
            transaction.set_rollback(True)
            webhook_event_enqueue(OMIE, event_pk, on_commit=False)
            return "state_changed"
        status, message = handler(event, order, invoice, answer)
        if facts.topic == "NFSe.NotaAutorizada" and facts.nf_id and invoice is not None:
            # Omie's NF id saves the ListarNFSEs before ObterNFSe (a hint: ObterNFSe's number must match).
            nfse_archive_nf_id_hint(invoice=invoice, nf_id=facts.nf_id)
        return _close(event, status, message)


def _acceptable(facts: OmieEventFacts) -> str | None:
    """Why the event cannot be used at all, or None."""
    if not facts.valid:
        return facts.problem
    if not (facts.app_key and hmac.compare_digest(facts.app_key.encode(), settings.OMIE_APP_KEY.encode())):
        return "O appKey do evento não é o do nosso app Omie; evento guardado, nada mudou."
    return None


def _store_facts(event: OmieWebhookEvent, facts: OmieEventFacts) -> None:
    event.payload_format = facts.payload_format
    event.fields_seen = facts.fields_seen
    event.omie_os_code = facts.os_id
    event.c_cod_int_os = facts.c_cod_int_os
    event.nfse_number = facts.nfse_number


def _close(event: OmieWebhookEvent, status: str, message: str) -> str:
    event.status = status
    event.message = message[:2000]
    event.processed_at = timezone.now()
    event.save()
    return status


def _find(facts: OmieEventFacts) -> tuple[Order | None, Invoice | None]:
    """The order by nCodOS, then by cCodIntOS (our Bubble id); and its live invoice."""
    order = None
    if facts.os_id:
        order = Order.objects.filter(omie_os_code=facts.os_id).first()
    if order is None and facts.c_cod_int_os:
        order = Order.objects.filter(bubble_id=facts.c_cod_int_os).first()
    if order is None:
        return None, None
    return order, order_live_invoice(order=order)


# --------------------------------------------------------------------------------------------
# Asking Omie (outside any transaction)
# --------------------------------------------------------------------------------------------

# The steps that ask Omie and settle the invoice themselves: an event only brings them forward.
_WAITING_STEPS = {
    "NFSe.NotaAutorizada": {InvoiceStep.POLL_NFSE, InvoiceStep.FATURAR},
    "NFSe.NotaCancelada": {InvoiceStep.POLL_CANCEL, InvoiceStep.CANCEL},
    "OrdemServico.Faturada": {InvoiceStep.FATURAR},
}
_OURS_CANCELLING = (BillingStatus.CANCELLING, BillingStatus.CANCELLED)


def _needs_omie(facts: OmieEventFacts, invoice: Invoice | None) -> bool:
    """True when only a StatusOS asked here can tell whether the event is a drift; False when the
    invoice's own step will ask Omie, or when the event claims nothing we do not already know."""
    topic, status = facts.topic, invoice.status if invoice else None
    if topic == "NFSe.NotaAutorizada":
        if status == BillingStatus.ISSUING:
            return False
        # Issued here with the same number (or the event names none): nothing to confirm.
        return not (status == BillingStatus.ISSUED and (not facts.nfse_number or facts.nfse_number == invoice.nfse_number))
    if topic == "OrdemServico.Faturada":
        return invoice is None or status == BillingStatus.CANCELLED or (
            status == BillingStatus.ISSUING and invoice.faturar_requested_at is None)
    if topic in ("NFSe.NotaCancelada", "OrdemServico.Cancelada", "OrdemServico.Excluida"):
        return status not in _OURS_CANCELLING
    return topic == "NFSe.NotaSubstituida"


def _ask_omie(order: Order, invoice: Invoice | None) -> OmieAnswer:
    """One StatusOS of the order's OS, no sooner than Omie's same-OS window allows."""
    if invoice is not None and invoice.last_read_at is not None:
        ready = invoice.last_read_at + timedelta(seconds=settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS)
        wait = (ready - timezone.now()).total_seconds()
        if wait > 0:
            raise EventNotNow(wait, "StatusOS desta OS ainda dentro da janela do Omie")
    try:
        status = get_omie_client().status_os(c_cod_int_os=order.bubble_id, order_id=order.pk)
    except OmieNotFound:
        return OmieAnswer(missing=True)
    finally:
        if invoice is not None:
            Invoice.objects.filter(pk=invoice.pk).update(last_read_at=timezone.now())
    return OmieAnswer(status=status)


# --------------------------------------------------------------------------------------------
# Topics: (event, order, invoice, Omie's answer or None) → (status, message)
# --------------------------------------------------------------------------------------------


def _nota_autorizada(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    if answer is None:
        if invoice is not None and invoice.status == BillingStatus.ISSUED:
            return Status.NO_CHANGE, "NFS-e já emitida aqui."
        return _step_now(invoice, event.topic)
    status = answer.status
    if status is None or status.state != "issued":
        return Status.NO_CHANGE, f"O Omie não confirma a autorização ({answer.describe()}); nada mudou."
    if invoice is None or invoice.status == BillingStatus.CANCELLED:
        return _drift(event, order, invoice, DriftKind.BILLED_IN_OMIE, answer,
                      f"O Omie mostra a NFS-e {status.number} autorizada para um pedido sem emissão aqui.")
    if invoice.status == BillingStatus.ISSUED and invoice.nfse_number and invoice.nfse_number != status.number:
        return _drift(event, order, invoice, DriftKind.NUMBER_MISMATCH, answer,
                      f"O Omie mostra a NFS-e {status.number}; aqui a nota é {invoice.nfse_number}.")
    if invoice.status in (BillingStatus.FAILED, BillingStatus.MANUAL):
        return _drift(event, order, invoice, DriftKind.NFSE_STATUS, answer,
                      f"O Omie mostra a NFS-e {status.number} autorizada com a nota aqui em {invoice.get_status_display()}.")
    return Status.NO_CHANGE, f"NFS-e {status.number} confirmada pelo Omie; já registrada aqui."


def _nota_cancelada(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    if answer is None:
        if invoice is not None and invoice.status == BillingStatus.CANCELLED:
            return Status.NO_CHANGE, "NFS-e já cancelada aqui."
        return _step_now(invoice, event.topic)  # our own cancel: its StatusOS confirms it
    status = answer.status
    if status is None or not (status.state == "cancelled" or status.os_cancelled):
        return Status.NO_CHANGE, f"O Omie não confirma o cancelamento ({answer.describe()}); nada mudou."
    state = invoice.get_status_display() if invoice else "sem nota"
    number = status.number or (invoice.nfse_number if invoice else "")
    return _drift(event, order, invoice, DriftKind.CANCELLED_IN_OMIE, answer,
                  f"NFS-e {number} cancelada diretamente no Omie (confirmado por StatusOS); aqui a nota está {state}. "
                  "O pedido não foi alterado: confira e decida.")


def _os_faturada(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    if answer is None:
        if invoice is not None and invoice.faturar_outcome_unknown:
            return _step_now(invoice, event.topic)
        return Status.NO_CHANGE, "Faturamento já conhecido aqui."
    status = answer.status
    if status is None or not status.os_billed:
        return Status.NO_CHANGE, f"O Omie não confirma o faturamento ({answer.describe()}); nada mudou."
    if invoice is None or invoice.status == BillingStatus.CANCELLED:
        return _drift(event, order, invoice, DriftKind.BILLED_IN_OMIE, answer, "OS faturada no Omie sem emissão em andamento aqui.")
    if invoice.status == BillingStatus.ISSUING and invoice.faturar_requested_at is None:
        return _drift(event, order, invoice, DriftKind.BILLED_IN_OMIE, answer,
                      "OS faturada no Omie antes de o FaturarOS ser enviado daqui.")
    return Status.NO_CHANGE, "Faturamento já conhecido aqui."


def _os_cancelada(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    if answer is None:
        return Status.NO_CHANGE, "Efeito do cancelamento pedido daqui."
    if answer.status is None or not answer.status.os_cancelled:
        return Status.NO_CHANGE, f"O Omie não confirma o cancelamento da OS ({answer.describe()}); nada mudou."
    return _drift(event, order, invoice, DriftKind.OS_CANCELLED_IN_OMIE, answer,
                  _changed_in_omie("OS cancelada diretamente no Omie", invoice))


def _os_excluida(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    if answer is None:
        return Status.NO_CHANGE, "Efeito do cancelamento pedido daqui."
    if not answer.missing:
        return Status.NO_CHANGE, f"O Omie ainda tem a OS ({answer.describe()}); nada mudou."
    return _drift(event, order, invoice, DriftKind.OS_DELETED_IN_OMIE, answer,
                  _changed_in_omie("OS excluída diretamente no Omie", invoice))


def _nota_substituida(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, answer: OmieAnswer | None) -> tuple[str, str]:
    status = answer.status if answer else None
    ours = invoice.nfse_number if invoice else ""
    if status is None or status.state != "issued" or not status.number or status.number == ours:
        seen = answer.describe() if answer else "não consultado"
        return Status.NO_CHANGE, f"O Omie não mostra outra NFS-e para esta OS ({seen}); nada mudou."
    return _drift(event, order, invoice, DriftKind.NFSE_REPLACED, answer,
                  _changed_in_omie(f"NFS-e substituída no Omie: a atual é {status.number}", invoice))


def _changed_in_omie(what: str, invoice: Invoice | None) -> str:
    state = invoice.get_status_display() if invoice else "sem nota"
    return f"{what} (confirmado por StatusOS); aqui a nota está {state}. O pedido não foi alterado: confira e decida."


HANDLERS = {
    "NFSe.NotaAutorizada": _nota_autorizada,
    "NFSe.NotaCancelada": _nota_cancelada,
    "NFSe.NotaSubstituida": _nota_substituida,
    "OrdemServico.Faturada": _os_faturada,
    "OrdemServico.Cancelada": _os_cancelada,
    "OrdemServico.Excluida": _os_excluida,
}


# --------------------------------------------------------------------------------------------
# Writes (under the order's row lock)
# --------------------------------------------------------------------------------------------


def _step_now(invoice: Invoice | None, topic: str) -> tuple[str, str]:
    """Brings the invoice's waiting step that asks Omie forward to now; its answer decides.

    Only a step that is waiting is moved (a running step keeps its lease). The step still spaces its
    reads of one OS by Omie's same-OS window.
    """
    steps = _WAITING_STEPS.get(topic, set())
    if invoice is None or invoice.next_step not in steps:
        return Status.NO_CHANGE, "Nenhuma consulta ao Omie pendente para antecipar."
    now = timezone.now()
    if invoice.leased_until is not None and invoice.leased_until > now:
        # The step is running (its answer may be about to schedule the next read far ahead): come back after it.
        raise EventNotNow(min(5.0, (invoice.leased_until - now).total_seconds()), "passo da nota em execução")
    moved = Invoice.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now), pk=invoice.pk, next_step__in=steps, next_poll_at__gt=now,
    ).update(next_poll_at=now, updated_at=now)
    if not moved:
        return Status.NO_CHANGE, "A consulta ao Omie já está marcada para agora."
    transaction.on_commit(lambda: (invoice_enqueue(invoice_id=invoice.pk), invoices_dispatch_kick()))
    step = InvoiceStep(invoice.next_step).label
    return Status.APPLIED, f"Consulta ao Omie antecipada para agora ({step}); a resposta do Omie decide, não o evento."


def _drift(event: OmieWebhookEvent, order: Order, invoice: Invoice | None, kind: DriftKind, answer: OmieAnswer,
           message: str) -> tuple[str, str]:
    ReconciliationDrift.objects.create(
        run=None, source=ReconciliationDrift.Source.WEBHOOK, webhook_event_id=event.pk, kind=kind, order=order,
        omie_os_code=order.omie_os_code, c_cod_int_os=order.bubble_id,
        local_state=invoice.get_status_display() if invoice else "sem nota", omie_state=answer.describe()[:60], message=message[:2000],
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
            webhook_event_enqueue(OMIE, pk, on_commit=True)
    return len(ids)
