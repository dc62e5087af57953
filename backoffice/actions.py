"""The ops actions of SPEC §5.3 in the admin: the buttons on the order page, their confirmation pages
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
from billing import permissions as perms
from billing.models import Invoice
from billing.selectors import customer_account_get, order_billing_actions
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
    issued_on = forms.DateField(label="Data de emissão", widget=forms.DateInput(attrs={"type": "date"}),
                                input_formats=["%Y-%m-%d", "%d/%m/%Y"])
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
# The actions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpsAction:
    name: str  # the /v1/ path segment, also the admin URL's
    label: str
    permission: str
    log_name: str  # the action-log name the service writes
    effect: str  # what happens, in the words of the confirmation page
    form: type[forms.Form] | None
    run: Callable[..., str]  # (order, caller, data) → the success message


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
    invoice_manual_record(order_bubble_id=order.bubble_id, caller=caller, nf_number=data["nf_number"], issued_on=data["issued_on"],
                          nf_url=data.get("nf_url", ""), note=data.get("note", ""))
    return f"NF manual {data['nf_number'].strip()} registrada. Este pedido não será mais emitido pelo sistema."


def _approve_hold(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    approved = billing_hold_approve(order_bubble_id=order.bubble_id, caller=caller, note=data.get("note", ""))
    return f"Retenção aprovada. Faturamento agora: \"{approved.get_billing_status_display()}\"."


def _override_day25(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    changed = billing_day25_override(order_bubble_id=order.bubble_id, caller=caller, reason=data["reason"])
    return f"Faturamento antecipado. Faturamento agora: \"{changed.get_billing_status_display()}\"."


def _brl(value: Decimal) -> str:
    return brl(value)


def _transfer_cc(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    result = account_transfer_from_order(order_bubble_id=order.bubble_id, caller=caller, reason=data["reason"],
                                         amount=data.get("amount") or None)
    return f"{_brl(result.entry.amount)} transferidos para a conta corrente do cliente. Saldo: {_brl(result.balance)}."


def _use_cc(order: Order, caller: Caller, data: dict[str, Any]) -> str:
    result = account_use_on_order(order_bubble_id=order.bubble_id, caller=caller, amount=data.get("amount") or None)
    paid = " O pedido ficou pago." if result.amount_due <= 0 else f" Ainda em aberto: {_brl(result.amount_due)}."
    return f"{_brl(result.applied)} da conta corrente aplicados.{paid} Saldo restante: {_brl(result.balance)}."


ACTIONS: list[OpsAction] = [
    OpsAction("retry", "Reprocessar", perms.RETRY, "retry",
              "Roda de novo o passo que falhou: a sincronização desde o início (lendo os dados do Bubble de novo), a emissão "
              "da NF (ReenviarOS após rejeição da prefeitura, ou FaturarOS depois de consultar a OS) ou as atualizações para o "
              "Bubble que desistiram.", None, _retry),
    OpsAction("cancel-nf", "Cancelar NF", perms.CANCEL_NF, "nf_cancel",
              "Pede ao Omie o cancelamento da NFS-e (CancelarOS). A NF fica \"Cancelamento em andamento\" e passa a \"NF cancelada\" "
              "quando a prefeitura confirmar; se a prefeitura recusar, volta a \"NF emitida\" com o motivo.", CancelNfForm, _cancel_nf),
    OpsAction("mark-nf-manual", "Registrar NF manual", perms.MARK_NF_MANUAL, "nf_mark_manual",
              "Registra uma NF emitida fora do sistema. O pedido passa a \"NF manual\" e nunca mais é emitido pelo sistema.",
              MarkNfManualForm, _mark_nf_manual),
    OpsAction("approve-billing-hold", "Aprovar retenção", perms.APPROVE_HOLD, "billing_hold_approve",
              "Libera o faturamento retido. O pedido segue o seu gatilho: emite agora se for imediato ou se a data já passou, "
              "senão espera a data prevista.", NoteForm, _approve_hold),
    OpsAction("override-day25", "Antecipar faturamento", perms.OVERRIDE_DAY25, "billing_override_day25",
              "Emite a NF agora em vez de esperar o dia de faturamento.", ReasonForm, _override_day25),
    OpsAction("transfer-cc", "Transferir para conta corrente", perms.MANAGE_CC, "cc_transfer",
              "Credita na conta corrente do cliente o valor pago neste pedido (só sem NF ativa). O novo saldo é enviado ao Bubble.",
              TransferCcForm, _transfer_cc),
    OpsAction("use-cc", "Usar conta corrente", perms.MANAGE_CC, "cc_use",
              "Usa o saldo da conta corrente do cliente para pagar este pedido. Se o valor em aberto zerar, o pedido fica pago "
              "(via conta corrente) e o faturamento segue. O novo saldo é enviado ao Bubble.", UseCcForm, _use_cc),
]
BY_NAME = {action.name: action for action in ACTIONS}


def admin_caller(*, request: Any, data: dict[str, Any]) -> Caller:
    payload = {"via": "admin", **{k: (str(v) if not isinstance(v, str | int) else v) for k, v in data.items() if v not in ("", None)}}
    return Caller(actor=admin_actor(request.user.get_username()), user=request.user, payload=payload)


def refuse_without_permission(*, request: Any, action: OpsAction, order: Order) -> None:
    """A user without the permission gets 403; the attempt is logged like any refused one."""
    if request.user.has_perm(action.permission):
        return
    action_refusal_record(caller=admin_caller(request=request, data={}), action=action.log_name,
                          order_bubble_id=order.bubble_id, message=f"Sem a permissão {action.permission}.")
    raise PermissionDenied(f"Sem a permissão {action.permission}.")


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


def _retry_state(order: Order) -> tuple[bool, str]:
    if order.sync_status == Order.SyncStatus.FAILED or order.billing_status == Order.BillingStatus.FAILED:
        return True, ""
    if BubbleWriteback.objects.filter(order_id=order.pk, status=BubbleWriteback.Status.DEAD).exists():
        return True, ""
    return False, "Só com erro de sincronização, falha na emissão ou atualização para o Bubble que desistiu."


# When each action is possible, as ops would say it (added to the "why not" of a disabled button).
WHEN = {
    "cancel-nf": "Só com \"NF emitida\".",
    "mark-nf-manual": "Só antes da emissão: aguardando pagamento, agendado, retido ou falha na emissão.",
    "approve-billing-hold": "Só para pedido \"Retido para aprovação\".",
    "override-day25": "Só para pedido \"Agendado dia 25\".",
    "transfer-cc": "Só para pedido pago e sem NF ativa.",
    "use-cc": "Só para pedido com pagamento pendente (ou que falhou) e sem NF cancelada.",
}


def order_action_buttons(*, order: Order, user: Any, url: Callable[[str], str]) -> list[ActionButton]:
    """Every action with whether this user may run it on this order now. Mirrors the services'
    state rules (billing's availability selector); the services decide for real under the lock."""
    billing = {a.name: a for a in order_billing_actions(order=order, user=user)}
    buttons = []
    for action in ACTIONS:
        if not user.has_perm(action.permission):
            buttons.append(ActionButton(action.name, action.label, url(action.name), allowed=False, visible=False, reason=""))
            continue
        if action.name == "retry":
            state_ok, when = _retry_state(order)
            why = f"Nada a reprocessar: {when}"
        else:
            # With the permission, the selector's `allowed` is the state rule alone.
            state_ok, when = billing[action.name].allowed, WHEN[action.name]
            why = f"{billing[action.name].reason} {when}"
        buttons.append(ActionButton(action.name, action.label, url(action.name), allowed=state_ok, visible=True,
                                    reason="" if state_ok else why, hint="" if state_ok else when))
    return buttons


# --------------------------------------------------------------------------------------------
# What the confirmation page shows besides the effect
# --------------------------------------------------------------------------------------------


def confirm_facts(*, action: OpsAction, order: Order) -> list[tuple[str, str]]:
    invoice = order_live_invoice(order=order)
    if action.name == "retry":
        return [("Será reprocessado", _retry_what(order))]
    if action.name == "cancel-nf" and invoice is not None:
        issued = f", emitida em {timezone.localtime(invoice.issued_at):%d/%m/%Y}" if invoice.issued_at else ""
        return [("NF a cancelar", f"nº {invoice.nfse_number or '—'}{issued}")]
    if action.name == "approve-billing-hold":
        return [("Motivo da retenção", order.get_hold_reason_display() or "—"), ("Valor", _brl(order.amount or Decimal("0")))]
    if action.name == "override-day25":
        when = f"{order.billing_scheduled_for:%d/%m/%Y}" if order.billing_scheduled_for else "—"
        return [("Faturamento previsto para", when)]
    if action.name == "transfer-cc":
        available = order.amount_paid - order_transferred_total(order=order)
        return [("Pago neste pedido", _brl(order.amount_paid)), ("Disponível para transferir", _brl(max(available, Decimal("0"))))]
    if action.name == "use-cc":
        account = customer_account_get(customer_bubble_id=order.customer_bubble_id) if order.customer_bubble_id else None
        due = (order.amount or Decimal("0")) - order.amount_paid
        return [("Saldo da conta corrente", _brl(account.balance) if account else "sem conta"), ("Em aberto neste pedido", _brl(due))]
    return []


def _retry_what(order: Order) -> str:
    if order.sync_status == Order.SyncStatus.FAILED:
        return "a sincronização, desde a leitura dos dados no Bubble"
    if order.billing_status == Order.BillingStatus.FAILED:
        return "a emissão da NF"
    dead = BubbleWriteback.objects.filter(order_id=order.pk, status=BubbleWriteback.Status.DEAD).count()
    return f"{dead} atualização(ões) para o Bubble que desistiram" if dead else "nada (o pedido não tem falha)"
