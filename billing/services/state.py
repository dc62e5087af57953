"""The one writer of billing, invoice and payment status (docs/architecture.md#state-and-transitions).

Every change of an order's ``billing_status`` or ``payment_status`` and of an invoice's ``status``
goes through a function of this module, which checks it against the transition tables below and
raises ``IllegalTransition`` for anything else. Emission, the Omie and Pagar.me webhooks, the ops
actions, the billing decision and the day-25 run all call it; ``billing/tests/test_state_writers.py``
fails when any other production module assigns one of those fields.

Every function here runs inside the caller's transaction, with the order row locked
(``select_for_update``). The Bubble writeback is an outbox row in that same transaction (docs/contract.md#bubble-writeback),
so Bubble eventually sees exactly the committed state, and nothing if the change rolled back.
The order's ``version`` moves on through ``common.versioning`` (the one optimistic-locking helper).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from billing.models import Invoice, InvoiceStep
from billing.services.nfse_links import invoice_document_links
from common.exceptions import InvalidState
from common.safe_urls import http_url_or_empty
from common.versioning import version_bump, version_next
from integrations.bubble.services import writeback_enqueue
from orders.models import Order
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus

ORDER_BILLING_FIELDS = ["billing_status", "last_error", "version", "updated_at"]

B = BillingStatus
P = PaymentStatus
NO_BILLING = ""  # an order nobody decided on yet (not synced, or synced before the decision ran)
NEW = None  # an invoice not stored yet

# --------------------------------------------------------------------------------------------
# The transition tables: from-status → the statuses it may move to. Nothing else is allowed.
# --------------------------------------------------------------------------------------------

_UNDECIDED = frozenset({B.AWAITING_PAYMENT, B.SCHEDULED, B.ON_HOLD})

# The order's billing status (``status_faturamento`` in Bubble). The decision may move an undecided
# order between the undecided states (also to the same one, with a new date or reason); only a
# SCHEDULED order is claimed for emission; MANUAL and CANCELLED are final.
BILLING_TRANSITIONS: Mapping[str, frozenset[str]] = {
    NO_BILLING: _UNDECIDED,                                    # the billing decision, once the order is synced
    B.AWAITING_PAYMENT: _UNDECIDED | {B.MANUAL},               # paid → decided again; or NF recorded by ops
    B.SCHEDULED: _UNDECIDED | {B.ISSUING, B.MANUAL},           # due (day 25, immediate, override) → emission
    B.ON_HOLD: _UNDECIDED | {B.MANUAL},                        # approved → decided again
    B.ISSUING: frozenset({B.ISSUED, B.FAILED, B.MANUAL}),      # Omie/the city hall answered; or ops stopped it
    B.FAILED: frozenset({B.ISSUING, B.MANUAL}),                # retry (FaturarOS/ReenviarOS); or NF recorded by ops
    B.ISSUED: frozenset({B.CANCELLING}),                       # cancel-nf
    B.CANCELLING: frozenset({B.CANCELLED, B.ISSUED}),          # Omie confirmed; or the cancellation failed
    B.CANCELLED: frozenset(),
    B.MANUAL: frozenset(),
}

# An invoice's status: the order's life from ISSUING on, the same rows (``NEW``: the invoice is being created).
_INVOICE_LIFE = (B.ISSUING, B.FAILED, B.ISSUED, B.CANCELLING, B.CANCELLED, B.MANUAL)
INVOICE_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    NEW: frozenset({B.ISSUING, B.MANUAL}),
    **{status: BILLING_TRANSITIONS[status] for status in _INVOICE_LIFE},
}

# The order's payment status. Which of two facts wins (events arrive out of order) is the Pagar.me
# processing's rule (``billing/services/webhooks.py``: stages, newer facts); this table is what may
# ever happen: a failure only of a payment still pending, never a "change" to the same status.
PAYMENT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    status: frozenset(P) - {status} - (frozenset() if status == P.PENDING else {P.FAILED}) for status in P
}


class IllegalTransition(InvalidState):
    """A status change the tables above do not allow: a bug in the caller, never a user's mistake
    (the ops actions refuse a wrong state themselves, with their own message, before they get here)."""

    def __init__(self, what: str, current: str | None, new: str) -> None:
        shown = "novo" if current is NEW else (current or "sem faturamento")
        super().__init__(f"Transição não permitida ({what}): {shown} → {new}.",
                         details={"what": what, "from": current, "to": new})
        self.what, self.current, self.new = what, current, new


def _check(table: Mapping[Any, frozenset[str]], what: str, current: Any, new: str) -> None:
    if new not in table.get(current, frozenset()):
        raise IllegalTransition(what, current, new)


def billing_transition_check(*, order: Order, status: str) -> None:
    """Raises ``IllegalTransition`` unless the order's billing may move to ``status``.

    Billing starts only once the order exists in Omie (it was a CHECK constraint while the billing
    fields lived on the order's row): no billing status on an order that is not SYNCED.
    """
    _check(BILLING_TRANSITIONS, "faturamento", order.billing_status or NO_BILLING, status)
    if order.sync_status != SyncStatus.SYNCED:
        raise IllegalTransition("faturamento antes da sincronização", order.billing_status or NO_BILLING, status)


def invoice_transition_check(*, invoice: Invoice | None, status: str) -> None:
    current = invoice.status if invoice is not None and invoice.pk is not None else NEW
    _check(INVOICE_TRANSITIONS, "nota fiscal", current, status)


def payment_transition_check(*, order: Order, status: str) -> None:
    _check(PAYMENT_TRANSITIONS, "pagamento", order.payment_status, status)


# --------------------------------------------------------------------------------------------
# Reading the billing state (and mirroring it to Bubble)
# --------------------------------------------------------------------------------------------


def order_live_invoice(*, order: Order) -> Invoice | None:
    """The order's invoice that is not cancelled (at most one), else its newest one."""
    invoices = list(order.invoices.order_by("-created_at", "-id")[:5])
    live = [i for i in invoices if i.status != BillingStatus.CANCELLED]
    return live[0] if live else (invoices[0] if invoices else None)


def order_billing_fields(*, order: Order, invoice: Invoice | None) -> dict[str, Any]:
    """The Bubble `pedido` fields that mirror the billing state (docs/contract.md#billing-and-emission, docs/contract.md#bubble-data)."""
    status = BillingStatus(order.billing_status).label if order.billing_status else ""
    has_nf = invoice is not None and bool(invoice.nfse_number)
    # Our own stable link to the archived PDF (docs/nfse_documents.md); the city hall's page only
    # until the documents are stored (or when ops revoked our link).
    links = invoice_document_links(invoice=invoice) if has_nf else {}
    return {
        "status_faturamento": status,
        "nf_numero": invoice.nfse_number if has_nf else "",
        "nf_link": links.get("PDF") or (http_url_or_empty(invoice.nfse_url) if has_nf else ""),
        "nf_xml_link": links.get("XML", ""),
        "data_faturamento_prevista": order.billing_scheduled_for,
        "erro_integracao": order.last_error,
    }


def order_billing_writeback(*, order: Order, invoice: Invoice | None = None) -> None:
    if invoice is None:
        invoice = order_live_invoice(order=order)
    fields = order_billing_fields(order=order, invoice=invoice)
    writeback_enqueue(thing="order", bubble_id=order.bubble_id, fields=fields, order_id=order.pk)


# --------------------------------------------------------------------------------------------
# The writers
# --------------------------------------------------------------------------------------------


def order_billing_status_set(
    *,
    order: Order,
    status: BillingStatus,
    invoice: Invoice | None = None,
    last_error: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Stores the new billing status (and the error ops must act on, or none) and writes it back."""
    billing_transition_check(order=order, status=status)
    order.billing_status = status
    order.last_error = last_error
    version_bump(order)
    order.save(update_fields=[*ORDER_BILLING_FIELDS, *extra_fields])
    order_billing_writeback(order=order, invoice=invoice)


def invoice_status_set(*, invoice: Invoice, status: BillingStatus) -> None:
    """Moves an invoice (locked, or not stored yet) to ``status`` in memory; the caller saves it with its other fields."""
    invoice_transition_check(invoice=invoice, status=status)
    invoice.status = status


def invoice_status_fields(*, invoice: Invoice, status: BillingStatus) -> dict[str, Any]:
    """The same check for a conditional ``UPDATE`` (an emission step storing its result under its lease)."""
    invoice_transition_check(invoice=invoice, status=status)
    return {"status": status}


def invoice_create(*, order: Order, status: BillingStatus, **fields: Any) -> Invoice:
    """A new invoice of the (locked) order, born in ``status`` (ISSUING for emission)."""
    invoice_transition_check(invoice=None, status=status)
    return Invoice.objects.create(order=order, status=status, **fields)


def orders_emission_claim(*, orders: list[Order], actor: str, now: datetime) -> list[Invoice]:
    """SCHEDULED → ISSUING for a batch of LOCKED orders, each with a new invoice at FaturarOS.

    The set-based form of ``invoice_create`` + ``order_billing_status_set`` for the day-25 run: one
    INSERT and one UPDATE for the batch, the same checks, the same writeback per order.
    """
    for order in orders:
        billing_transition_check(order=order, status=BillingStatus.ISSUING)
        invoice_transition_check(invoice=None, status=BillingStatus.ISSUING)
    invoices = Invoice.objects.bulk_create([
        Invoice(order=o, status=BillingStatus.ISSUING, requested_by=actor[:200], next_step=InvoiceStep.FATURAR, next_poll_at=now)
        for o in orders
    ])
    _orders(orders).update(billing_status=BillingStatus.ISSUING, last_error="", version=version_next(), updated_at=now)
    for order, invoice in zip(orders, invoices, strict=True):
        order.billing_status, order.last_error = BillingStatus.ISSUING, ""
        version_bump(order)
        order_billing_writeback(order=order, invoice=invoice)
    return invoices


def _orders(orders: Iterable[Order]) -> QuerySet[Order]:
    return Order.objects.filter(id__in=[o.pk for o in orders])


def order_payment_from_bubble(*, order: Order, status: str) -> None:
    """Bubble's own payment status, copied (in memory) by the sync while no Pagar.me fact has spoken for the order.

    A mirror of Bubble's data, not a transition: Bubble's value is taken as it is (the table above is
    for the facts this backend applies). Once a Pagar.me fact was applied (``payment_state_at``), only
    Pagar.me moves the payment.
    """
    if order.payment_state_at is not None:
        return
    order.payment_status = status
    if status == PaymentStatus.PAID and not order.amount_paid and order.amount:
        # Bubble says the order is paid (no Pagar.me event told us how much): the whole amount.
        order.amount_paid = order.amount


def order_payment_status_set(*, order: Order, status: PaymentStatus, at: datetime | None) -> list[str]:
    """Moves the (locked) order's payment to ``status`` as of ``at`` in memory; returns the fields to save.

    The caller saves them with the payment's other facts (amount paid, via, flag) in one UPDATE.
    """
    payment_transition_check(order=order, status=status)
    order.payment_status = status
    order.payment_state_at = at
    return ["payment_status", "payment_state_at"]
