"""The ops actions of docs/contract.md#ops-actions in the admin: the buttons on the order page, their confirmation pages
and the bulk actions of the order list.

Each action calls the SAME service as Bubble's button (the /v1/ endpoint): the service checks the
permission and the state under the order's row lock and writes the action log, refusals included.
This module only asks for the input, names the admin user as the actor (``admin:<username>``) and
reports the outcome with ``message_user``. Business rules (justification length, reason codes,
amounts) are the service's: the forms only parse, so a refused input is logged like Bubble's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from backoffice.action_labels import admin_actor
from backoffice.templatetags.backoffice import brl
from billing import ops_actions as ops
from billing.models import Invoice
from billing.ops_actions import OpsAction, order_ops_actions
from billing.permissions import permission_missing_message
from billing.selectors import customer_account_get
from billing.services.account import order_transferred_total
from billing.services.actions import (
    Caller,
    account_transfer_from_order,
    account_use_on_order,
    action_refusal_record,
    billing_day25_override,
    billing_hold_approve,
    invoice_cancel_request,
    invoice_manual_record,
)
from billing.services.state import order_live_invoice
from integrations.bubble.models import BubbleWriteback
from orders.models import Order
from orders.selectors import order_retry_target
from orders.services import order_retry

# --------------------------------------------------------------------------------------------
# Forms (parse only; the service decides)
# --------------------------------------------------------------------------------------------


class CancelNfForm(forms.Form):
    reason_code = forms.TypedChoiceField(label="Motivo", choices=Invoice.CancelReason.choices, coerce=int, widget=forms.RadioSelect)
    justification = forms.CharField(
        label="Justificativa", widget=forms.Textarea(attrs={"rows": 3, "cols": 70, "minlength": 15, "maxlength": 255}),
        help_text="De 15 a 255 caracteres. Vai para a prefeitura junto com o pedido de cancelamento.",
    )


class MarkNfManualForm(forms.Form):
    nf_number = forms.CharField(label="Número da NF", max_length=40)
    issued_on = forms.DateField(
        label="Data de emissão", input_formats=["%d/%m/%Y"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/aaaa", "inputmode": "numeric", "size": 10,
                                                         "pattern": r"\d{2}/\d{2}/\d{4}"}),
        error_messages={"invalid": "Informe a data como dd/mm/aaaa, por exemplo 05/12/2026."},
        help_text="dd/mm/aaaa. Da criação do pedido até hoje; a NF entra no faturamento do mês desta data.",
    )
    nf_url = forms.CharField(label="Link da NF", required=False, max_length=500, help_text="Opcional: http(s)://…")
    note = forms.CharField(label="Observação", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 70}))


class NoteForm(forms.Form):
    note = forms.CharField(label="Observação", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
                           help_text="Opcional: fica no registro de ações.")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Motivo", max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
                             help_text="Obrigatório: fica no registro de ações.")


def money_text(value: str) -> str:
    """What ops type ("1.234,56", "R$ 150", "150.00") as the service's decimal text ("1234.56")."""
    text = value.replace("R$", "").replace(" ", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


class AmountField(forms.CharField):
    def to_python(self, value: Any) -> str:
        return money_text(super().to_python(value))


class TransferCcForm(ReasonForm):
    amount = AmountField(label="Valor (R$)", required=False, max_length=20,
                         help_text="Deixe vazio para transferir todo o valor disponível.")


class UseCcForm(forms.Form):
    amount = AmountField(label="Valor (R$)", required=False, max_length=20,
                         help_text="Deixe vazio para usar o máximo possível: o menor entre o saldo e o valor em aberto.")


# --------------------------------------------------------------------------------------------
# The actions: the catalog's entry (billing/ops_actions.py) with the admin's form and runner
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminAction:
    catalog: OpsAction  # name, label, permission, log name, state rule, effect
    form: type[forms.Form] | None
    run: Callable[..., str]  # (order, caller, data) → the success message

    name = property(lambda self: self.catalog.name)
    label = property(lambda self: self.catalog.label)
    permission = property(lambda self: self.catalog.permission)
    log_name = property(lambda self: self.catalog.log_name)
    effect = property(lambda self: self.catalog.effect)


def _retry(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    # What failed decides what re-runs: the sync, the billing (ReenviarOS / FaturarOS), or dead
    # writebacks. The service does not check permissions (the caller does: refuse_without_permission).
    _, message = order_retry(bubble_id=order.bubble_id, actor=caller.actor, payload=caller.payload)
    return message


def _cancel_nf(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    invoice_cancel_request(order_bubble_id=order.bubble_id, caller=caller, reason_code=data["reason_code"],
                           justification=data["justification"])
    return "Cancelamento pedido ao Omie. A NF fica \"Cancelamento em andamento\" até a prefeitura confirmar."


def _mark_nf_manual(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    changed = invoice_manual_record(order_bubble_id=order.bubble_id, caller=caller, nf_number=data["nf_number"],
                                    issued_on=data["issued_on"], nf_url=data.get("nf_url", ""), note=data.get("note", ""))
    return f"{changed.action_message} Este pedido não será mais emitido pelo sistema."


def _approve_hold(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    approved = billing_hold_approve(order_bubble_id=order.bubble_id, caller=caller, note=data.get("note", ""))
    return f"Retenção aprovada. Faturamento agora: \"{approved.get_billing_status_display()}\"."


def _override_day25(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    changed = billing_day25_override(order_bubble_id=order.bubble_id, caller=caller, reason=data["reason"])
    return f"Faturamento antecipado. Faturamento agora: \"{changed.get_billing_status_display()}\"."


def _transfer_cc(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    result = account_transfer_from_order(order_bubble_id=order.bubble_id, caller=caller, reason=data["reason"],
                                         amount=data.get("amount") or None)
    return f"{brl(result.entry.amount)} transferidos para a conta corrente do cliente. Saldo: {brl(result.balance)}."


def _use_cc(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    result = account_use_on_order(order_bubble_id=order.bubble_id, caller=caller, amount=data.get("amount") or None)
    paid = " O pedido ficou pago." if result.amount_due <= 0 else f" Ainda em aberto: {brl(result.amount_due)}."
    return f"{brl(result.applied)} da conta corrente aplicados.{paid} Saldo restante: {brl(result.balance)}."


ACTIONS: list[AdminAction] = [
    AdminAction(ops.RETRY, None, _retry),
    AdminAction(ops.CANCEL_NF, CancelNfForm, _cancel_nf),
    AdminAction(ops.MARK_NF_MANUAL, MarkNfManualForm, _mark_nf_manual),
    AdminAction(ops.APPROVE_BILLING_HOLD, NoteForm, _approve_hold),
    AdminAction(ops.OVERRIDE_DAY25, ReasonForm, _override_day25),
    AdminAction(ops.TRANSFER_CC, TransferCcForm, _transfer_cc),
    AdminAction(ops.USE_CC, UseCcForm, _use_cc),
]
BY_NAME = {action.name: action for action in ACTIONS}


def admin_caller(*, request: Any, data: dict[str, Any]) -> Caller:
    payload = {"via": "admin", **{k: (str(v) if not isinstance(v, str | int) else v) for k, v in data.items() if v not in ("", None)}}
    return Caller(actor=admin_actor(request.user.get_username()), user=request.user, payload=payload)


def refuse_without_permission(*, request: Any, action: AdminAction, order: Order) -> None:
    """A user without the permission gets 403; the attempt is logged like any refused one."""
    if request.user.has_perm(action.permission):
        return
    message = permission_missing_message(action.permission)
    action_refusal_record(caller=admin_caller(request=request, data={}), action=action.log_name,
                          order_bubble_id=order.bubble_id, message=message)
    raise PermissionDenied(message)


# --------------------------------------------------------------------------------------------
# Availability (the buttons)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionButton:
    name: str
    label: str
    url: str
    allowed: bool  # the user has the permission and the state allows it
    visible: bool  # the user has the permission (a disabled button says why the state refuses)
    reason: str  # why the state refuses it now (the button's tooltip, the confirmation page)
    hint: str = ""  # when it would be possible, in a few words (listed under the buttons)


def order_action_buttons(*, order: Order, user: Any, url: Callable[[str], str]) -> list[ActionButton]:
    """Every action with whether this user may run it on this order now (the catalog's state rules;
    the services decide for real under the lock)."""
    return [
        ActionButton(a.action.name, a.action.label, url(a.action.name), allowed=a.allowed, visible=a.visible,
                     reason="" if a.allowed or not a.visible else a.reason, hint="" if a.allowed or not a.visible else a.action.when)
        for a in order_ops_actions(order=order, user=user)
    ]


# --------------------------------------------------------------------------------------------
# What the confirmation page shows besides the effect
# --------------------------------------------------------------------------------------------


def confirm_facts(*, action: AdminAction, order: Order) -> list[tuple[str, str]]:
    invoice = order_live_invoice(order=order)
    if action.catalog is ops.RETRY:
        return [("Será reprocessado", _retry_what(order))]
    if action.catalog is ops.CANCEL_NF and invoice is not None:
        issued = f", emitida em {timezone.localtime(invoice.issued_at):%d/%m/%Y}" if invoice.issued_at else ""
        return [("NF a cancelar", f"nº {invoice.nfse_number or '—'}{issued}")]
    if action.catalog is ops.APPROVE_BILLING_HOLD:
        return [("Motivo da retenção", order.get_hold_reason_display() or "—"), ("Valor", brl(order.amount or Decimal("0")))]
    if action.catalog is ops.OVERRIDE_DAY25:
        when = f"{order.billing_scheduled_for:%d/%m/%Y}" if order.billing_scheduled_for else "—"
        return [("Faturamento previsto para", when)]
    if action.catalog is ops.TRANSFER_CC:
        available = order.amount_paid - order_transferred_total(order=order)
        return [("Pago neste pedido", brl(order.amount_paid)), ("Disponível para transferir", brl(max(available, Decimal("0"))))]
    if action.catalog is ops.USE_CC:
        account = customer_account_get(customer_bubble_id=order.customer_bubble_id) if order.customer_bubble_id else None
        due = (order.amount or Decimal("0")) - order.amount_paid
        return [("Saldo da conta corrente", brl(account.balance) if account else "sem conta"), ("Em aberto neste pedido", brl(due))]
    return []


def _retry_what(order: Order) -> str:
    target = order_retry_target(order)
    if target == "sync":
        return "a sincronização, desde a leitura dos dados no Bubble"
    if target == "billing":
        return "a emissão da NF"
    if target == "writebacks":
        dead = BubbleWriteback.objects.filter(order_id=order.pk, status=BubbleWriteback.Status.DEAD).count()
        return f"{dead} atualização(ões) para o Bubble que desistiram"
    return "nada (o pedido não tem falha)"
