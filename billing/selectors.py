"""Reads of billing state, for the API and the admin."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.models import AccountEntry, CustomerAccount
from billing.services.state import order_live_invoice
from common.safe_urls import http_url_or_empty
from orders.models import Order
from orders.statuses import BillingStatus


def _enum(cls: Any, value: str) -> dict[str, str] | None:
    return {"code": value, "label": cls(value).label} if value else None


def order_invoice_data(*, order: Order) -> dict[str, Any] | None:
    """The order's invoice (the live one, else the newest) as the API shows it."""
    invoice = order_live_invoice(order=order)
    if invoice is None:
        return None
    return {
        "status": _enum(BillingStatus, invoice.status),
        "nf_number": invoice.nfse_number or None,
        "verification_code": invoice.verification_code or None,
        "nf_url": http_url_or_empty(invoice.nfse_url) or None,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "city_hall_message": invoice.city_hall_message or None,
        "cancel_reason_code": invoice.cancel_reason_code,
        "cancel_justification": invoice.cancel_justification or None,
        "cancel_error": invoice.cancel_error or None,
        "manual": invoice.status == BillingStatus.MANUAL,
    }


@dataclass(frozen=True)
class AccountView:
    customer_bubble_id: str
    balance: Decimal
    entries: list[AccountEntry]


def customer_account_get(*, customer_bubble_id: str, limit: int = 200) -> AccountView | None:
    """The account with its newest entries; a customer we know with no account yet has balance 0."""
    account = CustomerAccount.objects.filter(customer_bubble_id=customer_bubble_id).first()
    if account is None:
        if not Order.objects.filter(customer_bubble_id=customer_bubble_id).exists():
            return None
        return AccountView(customer_bubble_id=customer_bubble_id, balance=Decimal("0.00"), entries=[])
    entries = list(account.entries.select_related("order").order_by("-created_at", "-id")[:limit])
    return AccountView(customer_bubble_id=customer_bubble_id, balance=account.balance, entries=entries)
