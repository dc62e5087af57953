"""Billing's side of the one seam between the two apps: what it registers in ``orders.handoff`` at start-up
(``billing.apps.BillingConfig.ready``; docs/architecture.md#which-way-imports-go)."""

from __future__ import annotations

from billing.selectors import order_invoice_data
from billing.services.actions import order_billing_retry_start
from billing.services.decision import order_billing_decide
from billing.services.state import order_payment_from_bubble
from orders.handoff import BillingHandoff


def billing_handoff() -> BillingHandoff:
    return BillingHandoff(
        decide=lambda order, actor: order_billing_decide(order=order, actor=actor),
        retry=lambda order: order_billing_retry_start(order=order),
        invoice_data=lambda order: order_invoice_data(order=order),
        payment_from_bubble=lambda order, status: order_payment_from_bubble(order=order, status=status),
    )
