"""The catalog of ops actions: the buttons ops press on an order, in Bubble (``/v1/orders/{id}/<name>``)
and in the admin.

One entry per action says its name (the URL segment), its label in Portuguese (the button, the
confirmation page, the action log), the permission it needs, when the order's state allows it, the
service it calls and the input that service takes. The API views, the admin's buttons and
confirmation pages, the action-log labels and the docs' table read it from here.

``allowed`` mirrors the service's state rule so a button can be greyed out; the service decides for
real, under the order's row lock, and logs refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billing import permissions as perms
from billing.models import CustomerAccount
from billing.services.account import order_transferred_total
from billing.services.actions import (
    LIVE_NF,
    MANUAL_FROM,
    USE_REFUSED_BILLING,
    account_transfer_from_order,
    account_use_on_order,
    billing_day25_override,
    billing_hold_approve,
    invoice_cancel_request,
    invoice_manual_record,
    transfer_nothing_reason,
)
from common.money import brl
from orders.models import Order
from orders.selectors import order_retry_target
from orders.services import order_retry
from orders.services.retry import ACTION as RETRY_ACTION
from orders.statuses import BillingStatus, PaymentStatus


@dataclass(frozen=True)
class OpsAction:
    name: str  # the /v1/orders/{id}/<name> path segment, also the admin URL's
    label: str  # Portuguese: the button, the confirmation page, the action log
    permission: str
    log_name: str  # the action-log name the service writes
    when: str  # when the state allows it, as ops would say it
    allowed: Callable[[Order], bool]  # the state rule (the service re-checks it under the lock)
    service: Callable[..., Any]
    inputs: tuple[str, ...]  # the service's input, as the API body names it ("?" = optional)
    effect: str  # what happens, in the words of the confirmation page


RETRY = OpsAction(
    RETRY_ACTION, "Reprocessar", perms.RETRY, RETRY_ACTION,
    "Só com erro de sincronização, falha na emissão ou atualização para o Bubble que desistiu.",
    lambda order: order_retry_target(order) is not None, order_retry, (),
    "Roda de novo o passo que falhou: a sincronização desde o início (lendo os dados do Bubble de novo), a emissão "
    "da NF (ReenviarOS após rejeição da prefeitura, ou FaturarOS depois de consultar a OS) ou as atualizações para o "
    "Bubble que desistiram.",
)
CANCEL_NF = OpsAction(
    "cancel-nf", "Cancelar NF", perms.CANCEL_NF, "nf_cancel", "Só com \"NF emitida\".",
    lambda order: order.billing_status == BillingStatus.ISSUED, invoice_cancel_request, ("reason_code", "justification"),
    "Pede ao Omie o cancelamento da NFS-e (CancelarOS). A NF fica \"Cancelamento em andamento\" e passa a \"NF cancelada\" "
    "quando a prefeitura confirmar; se a prefeitura recusar, volta a \"NF emitida\" com o motivo.",
)
MARK_NF_MANUAL = OpsAction(
    "mark-nf-manual", "Registrar NF manual", perms.MARK_NF_MANUAL, "nf_mark_manual",
    "Só sem NF: aguardando pagamento, agendado, retido, em emissão (a emissão é interrompida antes) ou falha na emissão.",
    lambda order: order.billing_status in MANUAL_FROM, invoice_manual_record, ("nf_number", "issued_at", "nf_url?", "note?"),
    "Registra uma NF emitida fora do sistema, com a data de emissão (da criação do pedido até hoje): ela entra no "
    "faturamento do mês dessa data. O pedido passa a \"NF manual\" e nunca mais é emitido pelo sistema; se estiver "
    "\"Em emissão\", a emissão é interrompida antes.",
)
APPROVE_BILLING_HOLD = OpsAction(
    "approve-billing-hold", "Aprovar retenção", perms.APPROVE_HOLD, "billing_hold_approve",
    "Só para pedido \"Retido para aprovação\".",
    lambda order: order.billing_status == BillingStatus.ON_HOLD, billing_hold_approve, ("note?",),
    "Libera o faturamento retido. O pedido segue o seu gatilho: emite agora se for imediato ou se a data já passou, "
    "senão espera a data prevista.",
)
OVERRIDE_DAY25 = OpsAction(
    "override-day25", "Antecipar faturamento", perms.OVERRIDE_DAY25, "billing_override_day25",
    "Só para pedido \"Agendado dia 25\".",
    lambda order: order.billing_status == BillingStatus.SCHEDULED, billing_day25_override, ("reason",),
    "Emite a NF agora em vez de esperar o dia de faturamento.",
)
def transfer_cc_blocker(order: Order) -> str:
    """Why "Transferir para conta corrente" would be refused now, beyond the statuses ("" = it would run)."""
    if not order.customer_bubble_id:
        return "Pedido sem cliente do Bubble: não há conta corrente para creditar."
    transferred = order_transferred_total(order=order)
    if order.amount_paid - transferred <= 0:
        return transfer_nothing_reason(amount_paid=order.amount_paid, transferred=transferred)
    return ""


def use_cc_blocker(order: Order) -> str:
    """Why "Usar conta corrente" would be refused now, beyond the statuses ("" = it would run)."""
    if order.amount is None or not order.customer_bubble_id:
        return "Pedido sem valor ou sem cliente: sincronize-o antes de usar a conta corrente."
    due = order.amount - order.amount_paid
    if due <= 0:
        return f"Não há valor em aberto neste pedido (valor {brl(order.amount)}, pago {brl(order.amount_paid)})."
    balance = CustomerAccount.objects.filter(customer_bubble_id=order.customer_bubble_id).values_list("balance", flat=True).first() or 0
    if balance <= 0:
        return f"A conta corrente do cliente não tem saldo ({brl(balance)})."
    return ""


TRANSFER_CC = OpsAction(
    "transfer-cc", "Transferir para conta corrente", perms.MANAGE_CC, "cc_transfer",
    "Só para pedido pago, sem NF ativa e com valor pago ainda não transferido.",
    lambda order: order.payment_status == PaymentStatus.PAID and order.billing_status not in LIVE_NF and not transfer_cc_blocker(order),
    account_transfer_from_order, ("reason", "amount?"),
    "Credita na conta corrente do cliente o valor pago neste pedido (só sem NF ativa). O novo saldo é enviado ao Bubble.",
)
USE_CC = OpsAction(
    "use-cc", "Usar conta corrente", perms.MANAGE_CC, "cc_use",
    "Só para pedido com pagamento pendente (ou que falhou), sem NF cancelada, com valor em aberto e saldo na conta corrente.",
    lambda order: (order.payment_status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
                   and order.billing_status not in USE_REFUSED_BILLING and not use_cc_blocker(order)),
    account_use_on_order, ("amount?",),
    "Usa o saldo da conta corrente do cliente para pagar este pedido. Se o valor em aberto zerar, o pedido fica pago "
    "(via conta corrente) e o faturamento segue. O novo saldo é enviado ao Bubble.",
)

OPS_ACTIONS: list[OpsAction] = [RETRY, CANCEL_NF, MARK_NF_MANUAL, APPROVE_BILLING_HOLD, OVERRIDE_DAY25, TRANSFER_CC, USE_CC]
BY_NAME: dict[str, OpsAction] = {action.name: action for action in OPS_ACTIONS}


@dataclass(frozen=True)
class ActionAvailability:
    action: OpsAction
    allowed: bool  # the user has the permission and the state allows it
    visible: bool  # the user has the permission (a greyed-out button says why the state refuses)
    reason: str  # why not, when not allowed


def order_ops_actions(*, order: Order, user: Any) -> list[ActionAvailability]:
    """Every ops action with whether this user may run it on this order now."""
    result = []
    for action in OPS_ACTIONS:
        if not user.has_perm(action.permission):
            result.append(ActionAvailability(action, allowed=False, visible=False, reason="Sem permissão."))
            continue
        state_ok = action.allowed(order)
        result.append(ActionAvailability(action, allowed=state_ok, visible=True, reason="" if state_ok else _why_not(action, order)))
    return result


def _why_not(action: OpsAction, order: Order) -> str:
    if action is RETRY:
        return f"Nada a reprocessar: {action.when}"
    blocker = {TRANSFER_CC.name: transfer_cc_blocker, USE_CC.name: use_cc_blocker}.get(action.name)
    status_ok = {
        TRANSFER_CC.name: lambda: order.payment_status == PaymentStatus.PAID and order.billing_status not in LIVE_NF,
        USE_CC.name: lambda: (order.payment_status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
                              and order.billing_status not in USE_REFUSED_BILLING),
    }.get(action.name)
    if blocker and status_ok and status_ok():
        return blocker(order)
    billing = BillingStatus(order.billing_status).label if order.billing_status else "não sincronizado"
    payment = PaymentStatus(order.payment_status).label
    return f"Não disponível com faturamento \"{billing}\" e pagamento \"{payment}\". {action.when}"
