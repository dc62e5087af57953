from __future__ import annotations

from typing import Any

from django.conf import settings

from billing.decision import BillingDecision, decide_billing
from billing.services.emission import order_emission_start
from billing.services.state import order_billing_status_set
from common.dates import today_sp
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome, BillingStatus, BillingTrigger, SyncStatus

# States in which the decision may still move the order; from ISSUING on, only emission and the
# ops actions move it.
UNDECIDED = {"", BillingStatus.AWAITING_PAYMENT, BillingStatus.SCHEDULED, BillingStatus.ON_HOLD}


def billing_status_for(decision: BillingDecision) -> BillingStatus:
    if decision.hold_reason:
        return BillingStatus.ON_HOLD
    if decision.trigger == BillingTrigger.AWAIT_PAYMENT:
        return BillingStatus.AWAITING_PAYMENT
    # IMMEDIATE orders are "due today": the emission claim moves them on to ISSUING at once.
    return BillingStatus.SCHEDULED


def order_billing_decide(*, order: Order, actor: str) -> BillingDecision:
    """Runs the billing decision for a synced order, stores it, writes it back and emits when due.

    Call it inside a transaction holding the order's row lock (``select_for_update``). It only moves
    orders that are not in emission or past it, so re-running it (a late webhook, a retried sync,
    an approval) is always safe. An order not synced yet keeps an empty billing status: the sync
    runs the decision when it marks the order SYNCED.

    A billing date, once set, is kept while the trigger stays DAY_25: an order held past its date
    and approved later is due at once ("emit at the next sweep"), not next month.
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
    if order.sync_status != SyncStatus.SYNCED or order.billing_status not in UNDECIDED:
        return decision

    if not order.billing_status:
        # Payment events that arrived before this order existed here are applied now.
        from billing.services.webhooks import pagarme_events_reprocess

        pagarme_events_reprocess(bubble_order_id=order.bubble_id, actor=actor)
    scheduled_for = decision.scheduled_for
    if decision.trigger == BillingTrigger.DAY_25 and order.billing_trigger == BillingTrigger.DAY_25 and order.billing_scheduled_for:
        scheduled_for = order.billing_scheduled_for
    status = billing_status_for(decision)
    before = (order.billing_status, order.billing_trigger, order.billing_scheduled_for, order.hold_reason)
    order.billing_trigger = decision.trigger
    order.billing_scheduled_for = scheduled_for
    order.hold_reason = decision.hold_reason or ""
    after = (status, order.billing_trigger, order.billing_scheduled_for, order.hold_reason)
    if after != before:
        order_billing_status_set(
            order=order, status=status, extra_fields=("billing_trigger", "billing_scheduled_for", "hold_reason")
        )
        action_log_record(
            actor=actor,
            action="billing_decide",
            outcome=ActionOutcome.OK,
            order=order,
            payload={"trigger": decision.trigger.value, "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
                     "hold_reason": order.hold_reason},
            message=decision_message(trigger=decision.trigger, status=status, scheduled_for=scheduled_for,
                                     hold_reason=order.get_hold_reason_display()),
        )

    if status == BillingStatus.SCHEDULED and decision.trigger == BillingTrigger.IMMEDIATE:

        order_emission_start(order=order, actor=actor)
    return decision


def decision_message(*, trigger: str, status: str, scheduled_for: Any, hold_reason: str) -> str:
    """The billing decision as ops read it in the action log."""
    if status == BillingStatus.ON_HOLD:
        return f"Retido para aprovação: {hold_reason or 'motivo não informado'}."
    if status == BillingStatus.AWAITING_PAYMENT:
        return "Aguardando pagamento: a NF será emitida quando o pagamento for confirmado."
    if trigger == BillingTrigger.IMMEDIATE:
        return "Faturamento imediato: emissão da NF iniciada."
    if scheduled_for:
        return f"Agendado para o dia de faturamento, {scheduled_for:%d/%m/%Y}."
    return f"{BillingStatus(status).label}."
