"""The ops actions of docs/contract.md#ops-actions, shared by the Bubble buttons (/v1/orders/{id}/…) and the admin.

Each action: permission → input rules (400 naming the field) → order row lock → state rule
(409 ``invalid_state`` naming the current state) → change → action log. A refused attempt changes
nothing (its transaction rolls back) and is still logged, by a write made after the rollback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from billing import permissions as perms
from billing.models import AccountEntry, FailureStage, Invoice, InvoiceStep
from billing.month_close import Month
from billing.services.account import account_entry_add, account_lock, order_transferred_total
from billing.services.decision import order_billing_decide
from billing.services.state import invoice_status_set, order_billing_status_set, order_live_invoice, order_payment_status_set
from billing.services.work import invoice_enqueue
from common.dates import SAO_PAULO
from common.exceptions import ApplicationError, InvalidState, NotFound
from common.money import brl
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome, BillingStatus, PaidVia, PaymentStatus

T = TypeVar("T")

CANCEL_REASON_CODES = (1, 2, 9)
JUSTIFICATION_MIN, JUSTIFICATION_MAX = 15, 255
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Caller:
    """Who asks: the actor written to the log, and the user whose permissions apply (None = system)."""

    actor: str
    user: Any = None
    payload: dict[str, Any] = field(default_factory=dict)


# The input fields as ops and Bubble's users read them (the message); details keep the API's key.
FIELD_LABELS = {
    "reason_code": "motivo", "justification": "justificativa", "nf_number": "número da NF", "issued_at": "data de emissão",
    "nf_url": "link da NF", "note": "observação", "reason": "motivo", "amount": "valor", "operator": "operador",
}


def field_error(name: str, message: str) -> ApplicationError:
    return ApplicationError(f"Campo inválido: {FIELD_LABELS.get(name, name)}. {message}", details={"fields": {name: [message]}})


def _state_error(order: Order, action_label: str) -> InvalidState:
    current = BillingStatus(order.billing_status).label if order.billing_status else "sem faturamento (pedido não sincronizado)"
    return InvalidState(
        f"Não é possível {action_label}: o faturamento do pedido está em \"{current}\".",
        details={"billing_status": order.billing_status, "payment_status": order.payment_status},
    )


def action_refusal_record(*, caller: Caller, action: str, order_bubble_id: str, message: str) -> None:
    """Logs a refused attempt (also used by views for input refused before any service ran)."""
    order = Order.objects.filter(bubble_id=order_bubble_id).first()
    action_log_record(actor=caller.actor, action=action, outcome=ActionOutcome.REJECTED, order=order,
                      order_bubble_id=order_bubble_id[:64], payload=caller.payload, message=message)


def _perform(
    *, order_bubble_id: str, action: str, permission: str, caller: Caller, run: Callable[[Order], tuple[T, str]],
    check: Callable[[], None] | None = None,
) -> T:
    try:
        if caller.user is not None and not caller.user.has_perm(permission):
            raise PermissionDenied(perms.permission_missing_message(permission))
        if check is not None:
            check()
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(bubble_id=order_bubble_id).first()
            if order is None:
                raise NotFound("Pedido não encontrado.")
            result, message = run(order)
            action_log_record(actor=caller.actor, action=action, outcome=ActionOutcome.OK, order=order, payload=caller.payload,
                              message=message)
            return result
    except (ApplicationError, PermissionDenied) as exc:
        action_refusal_record(caller=caller, action=action, order_bubble_id=order_bubble_id, message=getattr(exc, "message", str(exc)))
        exc.logged = True  # type: ignore[attr-defined]  # the API layer must not log it twice
        raise


# --------------------------------------------------------------------------------------------
# retry (the billing part; the sync part belongs to orders)
# --------------------------------------------------------------------------------------------


def order_billing_retry_start(*, order: Order) -> str:
    """Billing FAILED → ISSUING on a LOCKED order: ReenviarOS after a city hall rejection, else
    FaturarOS (which consults first whenever an earlier request may have reached Omie).
    Used by the orders' retry action, which checks the permission and logs.
    """
    if order.billing_status != BillingStatus.FAILED:
        raise _state_error(order, "reenviar o faturamento")
    invoice = Invoice.objects.select_for_update().filter(order=order, status=BillingStatus.FAILED).first()
    if invoice is None:
        raise InvalidState("Não há nota com falha para reenviar.")
    step = InvoiceStep.REENVIAR if invoice.failure_stage == FailureStage.NFSE else InvoiceStep.FATURAR
    invoice_status_set(invoice=invoice, status=BillingStatus.ISSUING)
    invoice.next_step = step
    invoice.next_poll_at = timezone.now()
    invoice.step_attempts = 0
    invoice.poll_count = 0
    invoice.lease_token = invoice.leased_until = None
    invoice.save()
    order_billing_status_set(order=order, status=BillingStatus.ISSUING, invoice=invoice)
    invoice_enqueue(invoice_id=invoice.pk)
    what = "reenvio da NFS-e (ReenviarOS)" if step == InvoiceStep.REENVIAR else "novo faturamento (FaturarOS, após consultar a OS)"
    return f"Faturamento reenviado: {what}."


# --------------------------------------------------------------------------------------------
# cancel-nf
# --------------------------------------------------------------------------------------------


def invoice_cancel_request(*, order_bubble_id: str, caller: Caller, reason_code: Any, justification: Any) -> Order:
    """ISSUED → CANCELLING; the CancelarOS step confirms it (CANCELLED) or returns it to ISSUED."""

    def check() -> None:
        if not isinstance(reason_code, int) or isinstance(reason_code, bool) or reason_code not in CANCEL_REASON_CODES:
            raise field_error("reason_code", "Use 1 (erro na emissão), 2 (serviço não prestado) ou 9 (outros).")
        text = justification.strip() if isinstance(justification, str) else ""
        if not JUSTIFICATION_MIN <= len(text) <= JUSTIFICATION_MAX:
            raise field_error("justification", f"A justificativa deve ter de {JUSTIFICATION_MIN} a {JUSTIFICATION_MAX} caracteres.")

    def run(order: Order) -> tuple[Order, str]:
        if order.billing_status != BillingStatus.ISSUED:
            raise _state_error(order, "cancelar a NF")
        invoice = Invoice.objects.select_for_update().get(order=order, status=BillingStatus.ISSUED)
        invoice_status_set(invoice=invoice, status=BillingStatus.CANCELLING)
        invoice.cancel_reason_code = reason_code
        invoice.cancel_justification = justification.strip()
        invoice.cancel_requested_by = caller.actor[:200]
        invoice.cancel_requested_at = timezone.now()
        invoice.cancel_sent_at = invoice.cancel_accepted_at = None
        invoice.cancel_error = ""
        invoice.next_step = InvoiceStep.CANCEL
        invoice.next_poll_at = timezone.now()
        invoice.step_attempts = invoice.poll_count = 0
        invoice.save()
        order_billing_status_set(order=order, status=BillingStatus.CANCELLING, invoice=invoice)
        invoice_enqueue(invoice_id=invoice.pk)
        return order, f"Cancelamento da NFS-e {invoice.nfse_number} pedido (motivo {reason_code})."

    return _perform(order_bubble_id=order_bubble_id, action="nf_cancel", permission=perms.CANCEL_NF, caller=caller, run=run, check=check)


# --------------------------------------------------------------------------------------------
# mark-nf-manual
# --------------------------------------------------------------------------------------------

MANUAL_FROM = {BillingStatus.AWAITING_PAYMENT, BillingStatus.SCHEDULED, BillingStatus.ON_HOLD, BillingStatus.ISSUING,
               BillingStatus.FAILED}


def manual_date_text(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def manual_date_limits(order: Order) -> tuple[date, date]:
    """The dates a manual NF may carry: from the order's creation to today (America/Sao_Paulo)."""
    return order.created_at.astimezone(SAO_PAULO).date(), timezone.now().astimezone(SAO_PAULO).date()


def _stop_emission(invoice: Invoice) -> str:
    """Stops an invoice "Em emissão" before it becomes manual; returns what ops must know about Omie.

    Under the order's row lock: no step is due any more and the lease is taken away, so a worker that
    holds it (even one waiting on Omie right now) can no longer store its result, and a queued step
    finds nothing to do. What Omie already received cannot be taken back: the message says so.
    """
    invoice.next_step = InvoiceStep.NONE
    invoice.next_poll_at = None
    invoice.lease_token = invoice.leased_until = None
    if invoice.faturar_requested_at or invoice.reenviar_requested_at:
        return (" Emissão pelo sistema interrompida. Atenção: o Omie já recebeu o pedido de faturamento desta OS; se a "
                "prefeitura emitir a NFS-e mesmo assim, cancele-a no Omie para não haver duas notas.")
    return " Emissão pelo sistema interrompida antes de qualquer envio ao Omie."


def invoice_manual_record(
    *, order_bubble_id: str, caller: Caller, nf_number: Any, issued_on: Any, nf_url: str = "", note: str = ""
) -> Order:
    """Records an NF issued outside the system → MANUAL; the order is never emitted afterwards.

    The NF's date lies between the order's creation and today; the NF counts in that date's month
    (the month close reads ``issued_at``). From "Em emissão" the emission is stopped first.
    """
    def check() -> None:
        if not isinstance(nf_number, str) or not nf_number.strip() or len(nf_number.strip()) > 40:
            raise field_error("nf_number", "Informe o número da NF (até 40 caracteres).")
        if not isinstance(issued_on, date) or isinstance(issued_on, datetime):
            raise field_error("issued_at", "Informe a data de emissão.")
        if issued_on > timezone.now().astimezone(SAO_PAULO).date():
            raise field_error("issued_at", f"A data de emissão ({manual_date_text(issued_on)}) não pode estar no futuro.")
        if nf_url and not re.match(r"^https?://", nf_url):
            raise field_error("nf_url", "Informe um link http(s).")

    def run(order: Order) -> tuple[Order, str]:
        if order.billing_status not in MANUAL_FROM:
            raise _state_error(order, "registrar NF manual")
        created_on, today = manual_date_limits(order)
        if issued_on < created_on:
            raise field_error("issued_at", f"A data de emissão ({manual_date_text(issued_on)}) é anterior à criação do pedido "
                                           f"({manual_date_text(created_on)}). Use uma data de {manual_date_text(created_on)} "
                                           f"a {manual_date_text(today)}.")
        invoice = Invoice.objects.select_for_update().filter(order=order).exclude(status=BillingStatus.CANCELLED).first()
        if invoice is None:
            invoice = Invoice(order=order, requested_by=caller.actor[:200])
        stopped = _stop_emission(invoice) if order.billing_status == BillingStatus.ISSUING else ""
        invoice_status_set(invoice=invoice, status=BillingStatus.MANUAL)
        invoice.nfse_number = nf_number.strip()
        invoice.nfse_url = nf_url or ""
        # Only the date is known: noon in São Paulo keeps it inside its day (and month) in any time zone.
        invoice.issued_at = datetime.combine(issued_on, time(12, 0), tzinfo=SAO_PAULO)
        invoice.manual_note = note or ""
        invoice.manual_recorded_by = caller.actor[:200]
        invoice.next_step = InvoiceStep.NONE
        invoice.next_poll_at = None
        invoice.lease_token = invoice.leased_until = None
        invoice.save()
        order_billing_status_set(order=order, status=BillingStatus.MANUAL, invoice=invoice)
        month = Month(issued_on.year, issued_on.month)
        order.action_message = (  # type: ignore[attr-defined]  # the admin shows the logged message
            f"NF manual {invoice.nfse_number} registrada com data de emissão {manual_date_text(issued_on)}: "
                                f"entra no faturamento de {month.label}.{stopped}")
        return order, order.action_message  # type: ignore[attr-defined]

    return _perform(order_bubble_id=order_bubble_id, action="nf_mark_manual", permission=perms.MARK_NF_MANUAL, caller=caller, run=run,
                    check=check)


# --------------------------------------------------------------------------------------------
# approve-billing-hold, override-day25
# --------------------------------------------------------------------------------------------


def billing_hold_approve(*, order_bubble_id: str, caller: Caller, note: str = "") -> Order:
    """ON_HOLD → the order follows its trigger (IMMEDIATE emits now; a passed date, at the next sweep)."""

    def run(order: Order) -> tuple[Order, str]:
        if order.billing_status != BillingStatus.ON_HOLD:
            raise _state_error(order, "aprovar a retenção")
        reason = order.get_hold_reason_display()
        order.hold_approved_by = caller.actor[:200]
        order.hold_approved_at = timezone.now()
        order.save(update_fields=["hold_approved_by", "hold_approved_at", "updated_at"])
        order_billing_decide(order=order, actor=caller.actor)
        return order, f"Retenção aprovada ({reason})." + (f" {note}" if note else "")

    return _perform(order_bubble_id=order_bubble_id, action="billing_hold_approve", permission=perms.APPROVE_HOLD, caller=caller, run=run)


def billing_day25_override(*, order_bubble_id: str, caller: Caller, reason: Any) -> Order:
    """SCHEDULED → emitted now (IMMEDIATE)."""

    def check() -> None:
        if not isinstance(reason, str) or not reason.strip():
            raise field_error("reason", "Informe o motivo da antecipação.")

    def run(order: Order) -> tuple[Order, str]:
        if order.billing_status != BillingStatus.SCHEDULED:
            raise _state_error(order, "antecipar o faturamento")
        order.override_day25 = True
        order.save(update_fields=["override_day25", "updated_at"])
        order_billing_decide(order=order, actor=caller.actor)
        return order, f"Faturamento antecipado: {reason.strip()}"

    return _perform(order_bubble_id=order_bubble_id, action="billing_override_day25", permission=perms.OVERRIDE_DAY25, caller=caller,
                    run=run, check=check)


# --------------------------------------------------------------------------------------------
# transfer-cc, use-cc
# --------------------------------------------------------------------------------------------

# An NF exists (or is on its way) for these: the money it covers cannot move to the account.
LIVE_NF = {BillingStatus.ISSUING, BillingStatus.ISSUED, BillingStatus.CANCELLING, BillingStatus.MANUAL}


@dataclass(frozen=True)
class TransferResult:
    order: Order
    entry: AccountEntry
    balance: Decimal


@dataclass(frozen=True)
class UseResult:
    order: Order
    applied: Decimal
    balance: Decimal
    amount_due: Decimal


def _money(name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise field_error(name, "Valor inválido; use um decimal como \"150.00\".") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise field_error(name, "O valor deve ser positivo, com até 2 casas decimais.")
    return amount


def account_transfer_from_order(*, order_bubble_id: str, caller: Caller, reason: Any, amount: Any = None) -> TransferResult:
    """Credits the customer's account with money paid on an order that has no live NF."""
    requested: list[Decimal | None] = []

    def check() -> None:
        if not isinstance(reason, str) or not reason.strip():
            raise field_error("reason", "Informe o motivo da transferência.")
        requested.append(_money("amount", amount))

    def run(order: Order) -> tuple[TransferResult, str]:
        if order.payment_status != PaymentStatus.PAID:
            raise InvalidState(
                f"Não é possível transferir: o pagamento do pedido está \"{PaymentStatus(order.payment_status).label}\".",
                details={"payment_status": order.payment_status, "billing_status": order.billing_status},
            )
        if order.billing_status in LIVE_NF:
            raise _state_error(order, "transferir para a conta corrente (há NF ativa)")
        if not order.customer_bubble_id:
            raise InvalidState("Pedido sem cliente do Bubble: não há conta corrente para creditar.")
        transferred = order_transferred_total(order=order)
        available = order.amount_paid - transferred
        if available <= 0:
            raise InvalidState(transfer_nothing_reason(amount_paid=order.amount_paid, transferred=transferred),
                               details={"available": "0.00"})
        value = requested[0] or available
        if value > available:
            raise field_error("amount", f"O valor excede o disponível para transferência ({brl(available)}).")
        account = account_lock(customer_bubble_id=order.customer_bubble_id)
        entry = account_entry_add(account=account, amount=value, kind=AccountEntry.Kind.TRANSFER_IN, order=order, actor=caller.actor,
                                  reason=reason.strip())
        return TransferResult(order=order, entry=entry, balance=account.balance), f"{brl(value)} transferidos para a conta corrente."

    return _perform(order_bubble_id=order_bubble_id, action="cc_transfer", permission=perms.MANAGE_CC, caller=caller, run=run, check=check)


def transfer_nothing_reason(*, amount_paid: Decimal, transferred: Decimal) -> str:
    """Why nothing of this order can go to the current account, in the true words."""
    if amount_paid <= 0:
        return "Nenhum valor pago registrado neste pedido: nada a transferir."
    return f"Todo o valor pago neste pedido ({brl(amount_paid)}) já foi transferido para a conta corrente ({brl(transferred)})."


USE_REFUSED_BILLING = {BillingStatus.CANCELLING, BillingStatus.CANCELLED}


def _use_wanted(order: Order, requested: Decimal | None) -> Decimal:
    """How much of the order's open amount the account may pay (``requested``, else all of it)."""
    if order.payment_status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        raise InvalidState(
            f"Não é possível usar a conta corrente: o pagamento do pedido está \"{PaymentStatus(order.payment_status).label}\".",
            details={"payment_status": order.payment_status, "billing_status": order.billing_status},
        )
    if order.billing_status in USE_REFUSED_BILLING:
        raise _state_error(order, "usar a conta corrente")
    if order.amount is None or not order.customer_bubble_id:
        raise InvalidState("Pedido sem valor ou sem cliente: sincronize-o antes de usar a conta corrente.")
    due = order.amount - order.amount_paid
    if due <= 0:
        raise InvalidState(f"Não há valor em aberto neste pedido (valor {brl(order.amount)}, pago {brl(order.amount_paid)}).",
                           details={"amount_due": str(due)})
    wanted = requested or due
    if wanted > due:
        raise field_error("amount", f"O valor excede o valor em aberto do pedido ({brl(due)}).")
    return wanted


def account_use_on_order(*, order_bubble_id: str, caller: Caller, amount: Any = None) -> UseResult:
    """Applies ``min(balance, due)`` (or less, if asked) of the customer's account to the order."""
    requested: list[Decimal | None] = []

    def check() -> None:
        requested.append(_money("amount", amount))

    def run(order: Order) -> tuple[UseResult, str]:
        wanted = _use_wanted(order, requested[0])
        account = account_lock(customer_bubble_id=order.customer_bubble_id)
        applied = min(wanted, account.balance)
        if applied <= 0:
            raise InvalidState(f"Saldo insuficiente na conta corrente do cliente: {brl(account.balance)}.",
                               details={"balance": str(account.balance)})
        account_entry_add(account=account, amount=-applied, kind=AccountEntry.Kind.USE, order=order, actor=caller.actor,
                          reason="Uso de saldo no pedido")
        order.amount_paid += applied
        fields = ["amount_paid", "updated_at"]
        if order.amount_paid >= order.amount:
            now = timezone.now()
            fields += order_payment_status_set(order=order, status=PaymentStatus.PAID, at=now)
            order.paid_via, order.paid_at = PaidVia.CONTA_CORRENTE, now
            fields += ["paid_via", "paid_at"]
        order.save(update_fields=fields)
        if order.payment_status == PaymentStatus.PAID:
            order_billing_decide(order=order, actor=caller.actor)
        result = UseResult(order=order, applied=applied, balance=account.balance, amount_due=order.amount - order.amount_paid)
        return result, f"{brl(applied)} da conta corrente aplicados; em aberto {brl(result.amount_due)}."

    return _perform(order_bubble_id=order_bubble_id, action="cc_use", permission=perms.MANAGE_CC, caller=caller, run=run, check=check)


__all__ = [
    "Caller",
    "TransferResult",
    "UseResult",
    "account_transfer_from_order",
    "account_use_on_order",
    "action_refusal_record",
    "billing_day25_override",
    "billing_hold_approve",
    "invoice_cancel_request",
    "invoice_manual_record",
    "manual_date_limits",
    "manual_date_text",
    "order_billing_retry_start",
    "order_live_invoice",
]
