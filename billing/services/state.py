"""The one way an order's billing status changes: stored, versioned and written back to Bubble.

Every function here runs inside the caller's transaction, with the order row locked
(``select_for_update``). The Bubble writeback is an outbox row in that same transaction (docs/contract.md#bubble-writeback),
so Bubble eventually sees exactly the committed state, and nothing if the change rolled back.
"""

from __future__ import annotations

from typing import Any

from billing.models import Invoice
from billing.services.nfse_links import invoice_document_links
from common.safe_urls import http_url_or_empty
from integrations.bubble.services import writeback_enqueue
from orders.models import Order
from orders.statuses import BillingStatus

ORDER_BILLING_FIELDS = ["billing_status", "last_error", "version", "updated_at"]


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


def order_billing_status_set(
    *,
    order: Order,
    status: BillingStatus,
    invoice: Invoice | None = None,
    last_error: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Stores the new billing status (and the error ops must act on, or none) and writes it back."""
    order.billing_status = status
    order.last_error = last_error
    order.version += 1
    order.save(update_fields=[*ORDER_BILLING_FIELDS, *extra_fields])
    order_billing_writeback(order=order, invoice=invoice)
