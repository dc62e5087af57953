from __future__ import annotations

from django.conf import settings

from billing.dates import today_sp
from billing.decision import BillingDecision, decide_billing
from orders.models import Order
from orders.statuses import BillingStatus, BillingTrigger


def billing_status_for(decision: BillingDecision) -> BillingStatus:
    if decision.hold_reason:
        return BillingStatus.ON_HOLD
    if decision.trigger == BillingTrigger.AWAIT_PAYMENT:
        return BillingStatus.AWAITING_PAYMENT
    # IMMEDIATE orders are "due today": the emission claim moves them to ISSUING.
    return BillingStatus.SCHEDULED


def order_billing_decide(*, order: Order, actor: str) -> BillingDecision:
    """Runs the billing decision for a synced order and stores trigger, date, hold and status.

    Call it inside a transaction holding the order's row lock (``select_for_update``). It only
    moves orders that are not in emission or past it: an order already ISSUING/ISSUED/… keeps its
    state, so re-running the decision (a late webhook, a retry) is always safe.
    """
    decision = decide_billing(
        customer_kind=order.customer_kind,
        payment_status=order.payment_status,
        amount=order.amount or 0,
        cnpj_status=order.cnpj_status,
        requires_approval=order.requires_approval,
        override=order.override_day25,
        hold_approved=bool(order.hold_approved_at),
        today=today_sp(),
        billing_day=settings.BILLING_DAY,
        hold_threshold=settings.BILLING_HOLD_THRESHOLD,
    )
    undecided = {"", BillingStatus.AWAITING_PAYMENT, BillingStatus.SCHEDULED, BillingStatus.ON_HOLD}
    if order.billing_status in undecided:
        order.billing_trigger = decision.trigger
        order.billing_scheduled_for = decision.scheduled_for
        order.hold_reason = decision.hold_reason or ""
        order.billing_status = billing_status_for(decision)
        order.version += 1
        order.save(
            update_fields=["billing_trigger", "billing_scheduled_for", "hold_reason", "billing_status", "version", "updated_at"]
        )
    return decision
