"""What a Pagar.me charge, as Pagar.me reports it, means for one of our orders.

Pure: no database, no HTTP. The webhook processor reads the charge (from the API, or from the body when
confirmation is off) and asks ``payment_verdict`` what to apply; the facts behind each rule:

- Pagar.me v5's charge statuses are paid, pending, canceled, processing, failed, chargedback, underpaid
  and overpaid. There is no "refunded": a fully refunded charge reads ``canceled`` with
  ``canceled_amount`` ≥ ``paid_amount``; a partial refund stays ``paid`` with ``canceled_amount`` > 0
  (and Pagar.me sends ``charge.partial_canceled``).
- A charge proves a payment only for the order it belongs to: its ``metadata.bubble_order_id`` or its
  Pagar.me order's ``code`` must be the order's Bubble id. A signed event naming order B with the id of
  a real charge of order A must not pay B (nor use up A's payment).
- Money is compared in cents: ``paid_amount`` against the order's amount. Less is underpaid (no NF),
  more is overpaid (the NF is issued for the order's amount, which is what the OS carries), both flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from common.money import brl
from integrations.pagarme.client import CHARGE_STATUSES_WITH_PAYMENT, ChargeStatus
from orders.statuses import PaymentStatus


@dataclass(frozen=True)
class Verdict:
    """The payment status to apply (None: not confirmed), why, and what finance must look at."""

    status: PaymentStatus | None
    message: str = ""
    # Portuguese, for the order's "alerta de pagamento"; empty when nothing needs a person.
    flag: str = ""
    # What Pagar.me received for the charge (R$).
    paid: Decimal | None = None
    # Refunded so far on a charge that stays paid (a partial refund), R$.
    partial_refund: Decimal | None = None


def cents(value: Decimal) -> int:
    """R$ → integer cents (Pagar.me's unit), exactly: 1500.00 → 150000."""
    return int((value * 100).to_integral_value())


def charge_belongs_to(charge: ChargeStatus, bubble_id: str) -> bool:
    """True when the charge says it is this order's: its metadata.bubble_order_id or its order code."""
    return bubble_id in charge.owners


def payment_verdict(*, charge: ChargeStatus, bubble_id: str, order_amount: Decimal | None) -> Verdict:
    """What ``charge`` (as Pagar.me reports it) means for the order ``bubble_id`` of ``order_amount``."""
    if not charge_belongs_to(charge, bubble_id):
        owner = ", ".join(sorted(charge.owners)) or "nenhum pedido identificado"
        return Verdict(
            status=None,
            message=f"A cobrança {charge.id} pertence a outro pedido no Pagar.me ({owner}), não a {bubble_id}: nada aplicado.",
            flag=f"Evento do Pagar.me com a cobrança {charge.id}, que é de outro pedido: nada aplicado; verifique.",
        )
    status = charge.status
    if status == "failed":
        return Verdict(status=PaymentStatus.FAILED)
    if status == "chargedback":
        return Verdict(status=PaymentStatus.CHARGEDBACK, paid=charge.paid_amount)
    if status == "canceled":
        return _canceled(charge)
    if status in CHARGE_STATUSES_WITH_PAYMENT:
        return _paid(charge, order_amount)
    return Verdict(status=None, message=f"O Pagar.me diz que a situação da cobrança é '{status}': nada alterado.")


def _canceled(charge: ChargeStatus) -> Verdict:
    """A canceled charge after a payment is a refund (full when canceled_amount covers what was paid)."""
    paid = charge.paid_amount or Decimal("0")
    refunded = charge.canceled_amount or Decimal("0")
    if paid <= 0:
        return Verdict(status=None, message=f"A cobrança {charge.id} foi cancelada sem pagamento: nada alterado.")
    if refunded >= paid:
        return Verdict(status=PaymentStatus.REFUNDED, paid=paid)
    if refunded > 0:
        return _partial(charge, PaymentStatus.PAID, paid, refunded)
    return Verdict(status=None, message=f"A cobrança {charge.id} está cancelada sem valor estornado informado: nada alterado.")


def _paid(charge: ChargeStatus, order_amount: Decimal | None) -> Verdict:
    """paid / underpaid / overpaid: what was received against the order's amount, in cents."""
    if charge.paid_amount is None:
        return Verdict(status=None, message=f"O Pagar.me não informou o valor pago da cobrança {charge.id}: nada alterado.",
                       flag=f"Cobrança {charge.id} paga sem valor pago informado pelo Pagar.me: verifique.")
    if order_amount is None:
        return Verdict(status=None, message="O pedido ainda não tem valor para comparar com o pago: nada alterado.",
                       flag=f"Pagamento de {brl(charge.paid_amount)} recebido para um pedido sem valor: verifique.")
    paid, due = cents(charge.paid_amount), cents(order_amount)
    refunded = charge.canceled_amount or Decimal("0")
    if paid < due:
        return Verdict(
            status=PaymentStatus.UNDERPAID, paid=charge.paid_amount,
            message=f"Pago a menor: {brl(charge.paid_amount)} de {brl(order_amount)}; NF não emitida.",
            flag=f"Pago a menor: recebido {brl(charge.paid_amount)} de {brl(order_amount)}. NF não emitida: verifique com o cliente.",
        )
    if refunded > 0:
        return _partial(charge, PaymentStatus.PAID, charge.paid_amount, refunded)
    if paid > due:
        return Verdict(
            status=PaymentStatus.PAID, paid=charge.paid_amount,
            message=f"Pago a maior: {brl(charge.paid_amount)} para um pedido de {brl(order_amount)}.",
            flag=f"Pago a maior: recebido {brl(charge.paid_amount)} para {brl(order_amount)}. NF emitida pelo valor do pedido; "
                 "verifique a devolução da diferença.",
        )
    return Verdict(status=PaymentStatus.PAID, paid=charge.paid_amount)


def _partial(charge: ChargeStatus, status: PaymentStatus, paid: Decimal, refunded: Decimal) -> Verdict:
    return Verdict(
        status=status, paid=paid, partial_refund=refunded,
        message=f"Estorno parcial de {brl(refunded)} (de {brl(paid)} pagos) na cobrança {charge.id}.",
        flag=f"Estorno parcial de {brl(refunded)} de {brl(paid)} pagos: verifique a NF e o pedido.",
    )
