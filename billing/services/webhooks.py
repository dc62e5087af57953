"""Pagar.me webhook events (SPEC §5.4): stored on arrival, applied once, in the charge's own order.

- Stored before anything else, unique on the event id: a repeated delivery is answered 200 and
  never processed twice (the processor also only touches events still RECEIVED, under a row lock).
- Applied by the charge's own time (``occurred_at``) and status: an event older than the payment
  state already applied is kept as STALE and changes nothing, and a payment failure never undoes a
  confirmed payment.
- Refunds and chargebacks flag the order for ops; an issued NF is never cancelled automatically.
- Unknown types, unmatched orders and unreadable events are kept, each with its reason.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.enqueue import pagarme_event_process_enqueue
from billing.models import PagarmeEvent
from billing.services.decision import order_billing_decide
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome, PaidVia, PaymentStatus

logger = logging.getLogger(__name__)

ACTOR = "pagarme"

# Event type → the payment status it states.
EVENT_PAYMENT_STATUS: dict[str, PaymentStatus] = {
    "charge.paid": PaymentStatus.PAID,
    "order.paid": PaymentStatus.PAID,
    "charge.overpaid": PaymentStatus.PAID,
    "charge.payment_failed": PaymentStatus.FAILED,
    "order.payment_failed": PaymentStatus.FAILED,
    "charge.refunded": PaymentStatus.REFUNDED,
    "charge.chargedback": PaymentStatus.CHARGEDBACK,
    "chargeback.received": PaymentStatus.CHARGEDBACK,
}

# The stages of a payment's life. Moving forward is always applied (events arrive out of order, but
# a charge never goes back from paid to failed); moving back only for a strictly newer fact.
STAGE = {PaymentStatus.PENDING: 0, PaymentStatus.FAILED: 1, PaymentStatus.PAID: 2, PaymentStatus.REFUNDED: 3, PaymentStatus.CHARGEDBACK: 3}


def pagarme_event_store(*, event_id: str, payload: dict[str, Any]) -> tuple[PagarmeEvent | None, bool]:
    """Keeps the event (raw payload) and enqueues its processing; (event, False) for a repeat."""
    try:
        with transaction.atomic():
            event = PagarmeEvent.objects.create(event_id=event_id[:100], type=str(payload.get("type") or "")[:80], payload=payload)
            pagarme_event_process_enqueue(event_pk=event.pk, on_commit=True)
    except IntegrityError:
        return PagarmeEvent.objects.filter(event_id=event_id[:100]).first(), False
    return event, True


def pagarme_event_process(*, event_pk: int) -> str:
    from integrations.pagarme.events import InvalidEvent, event_parse

    with transaction.atomic():
        event = PagarmeEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != PagarmeEvent.Status.RECEIVED:
            return "already_processed"
        event.processed_at = timezone.now()
        try:
            parsed = event_parse(event.payload)
        except InvalidEvent as exc:
            return _close(event, PagarmeEvent.Status.INVALID, str(exc))
        event.type = parsed.type[:80]
        event.charge_id = (parsed.charge_id or "")[:100]
        event.charge_status = (parsed.status or "")[:40]
        event.occurred_at = parsed.occurred_at
        event.bubble_order_id = (parsed.bubble_order_id or "")[:64]

        new_status = EVENT_PAYMENT_STATUS.get(parsed.type)
        if new_status is None:
            return _close(event, PagarmeEvent.Status.UNKNOWN_TYPE, f"Tipo de evento não tratado: {parsed.type}.")
        order = Order.objects.select_for_update().filter(bubble_id=parsed.bubble_order_id).first() if parsed.bubble_order_id else None
        if order is None:
            return _close(event, PagarmeEvent.Status.UNMATCHED, "Nenhum pedido com este bubble_order_id / code.")
        event.order = order
        applied, message = order_payment_apply(order=order, status=new_status, occurred_at=parsed.occurred_at, amount=parsed.amount,
                                               event_id=event.event_id)
        return _close(event, PagarmeEvent.Status.APPLIED if applied else PagarmeEvent.Status.STALE, message)


def _close(event: PagarmeEvent, status: PagarmeEvent.Status, message: str) -> str:
    event.status = status
    event.message = message
    event.save()
    return status


def order_payment_apply(
    *, order: Order, status: PaymentStatus, occurred_at: datetime, amount: Decimal | None, event_id: str
) -> tuple[bool, str]:
    """Applies one payment fact to a LOCKED order unless a newer fact is already applied."""
    current = PaymentStatus(order.payment_status)
    newer = order.payment_state_at is None or occurred_at > order.payment_state_at
    if STAGE[status] <= STAGE[current]:
        if status == current or status == PaymentStatus.FAILED:
            # A failure never undoes a payment; a repeated fact changes nothing.
            return False, f"Pagamento já está {current.label}; evento ignorado."
        if not newer:
            # e.g. a paid event delivered after the refund that followed it.
            return False, f"Evento anterior ao estado atual ({current.label} em {order.payment_state_at:%d/%m/%Y %H:%M:%S}); ignorado."

    fields = ["payment_status", "payment_state_at", "updated_at"]
    order.payment_status = status
    order.payment_state_at = occurred_at
    message = f"Pagamento: {status.label} (evento {event_id})."
    if status == PaymentStatus.PAID:
        order.paid_via = PaidVia.PAGARME
        order.paid_at = occurred_at
        order.amount_paid = max(order.amount_paid, amount if amount is not None else (order.amount or Decimal("0")))
        fields += ["paid_via", "paid_at", "amount_paid"]
    elif status in (PaymentStatus.REFUNDED, PaymentStatus.CHARGEDBACK):
        # Flagged for ops; the NF (if any) stays as it is until someone decides to cancel it.
        order.payment_flag = f"{status.label} recebido em {timezone.localtime(occurred_at):%d/%m/%Y %H:%M}: verifique a NF e o pedido."
        fields.append("payment_flag")
    order.version += 1
    fields.append("version")
    order.save(update_fields=fields)
    action_log_record(actor=ACTOR, action="payment_update", outcome=ActionOutcome.OK, order=order, payload={"event_id": event_id},
                      message=message)
    if status == PaymentStatus.PAID:
        order_billing_decide(order=order, actor=ACTOR)
    return True, message


def pagarme_events_requeue(*, older_than_seconds: int = 300) -> int:
    """Re-enqueues events still RECEIVED a while after arrival (their task was lost with Redis)."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(PagarmeEvent.objects.filter(status=PagarmeEvent.Status.RECEIVED, received_at__lt=cutoff).values_list("id", flat=True)[:500])
    for pk in ids:
        pagarme_event_process_enqueue(event_pk=pk, on_commit=False)
    return len(ids)


def pagarme_events_reprocess(*, event_ids: list[int] | None = None, bubble_order_id: str = "", actor: str = "") -> int:
    """Sends UNMATCHED events back to processing (their order exists now). Others are left alone."""
    events = PagarmeEvent.objects.filter(status=PagarmeEvent.Status.UNMATCHED)
    if event_ids is not None:
        events = events.filter(id__in=event_ids)
    if bubble_order_id:
        events = events.filter(bubble_order_id=bubble_order_id)
    ids = list(events.values_list("id", flat=True)[:500])
    if ids:
        PagarmeEvent.objects.filter(id__in=ids).update(status=PagarmeEvent.Status.RECEIVED, message=f"Reprocessado {actor}".strip())
        for pk in ids:
            pagarme_event_process_enqueue(event_pk=pk, on_commit=True)
    return len(ids)
