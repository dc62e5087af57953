"""Pagar.me webhook events: stored on arrival, confirmed with Pagar.me's API, applied once, in order.

- Stored before anything else, unique on the event id: a repeated delivery is answered 200 and
  never processed twice (the processor also only touches events still RECEIVED, under a row lock).
- Applied by the charge's own time (``occurred_at``) and status: an event older than the payment
  state already applied is kept as STALE and changes nothing, and a payment failure never undoes a
  confirmed payment.
- Refunds and chargebacks flag the order for ops; an issued NF is never cancelled automatically.
  Pagar.me has no "refunded" charge: a full refund reads ``canceled`` with ``canceled_amount``, a partial
  one stays ``paid`` (``charge.partial_canceled``) and is recorded as ``Order.amount_refunded``.
- The charge must be the order's (metadata / order code) and its ``paid_amount`` is compared with the
  order's amount: underpaid is not paid (no NF), overpaid is paid and flagged (billing/services/payment_verdict.py).
- Unknown types, unmatched orders and unreadable events are kept, each with its reason.
- Confirmed with the API (PAGARME_CONFIRM_WITH_API, on by default): before a payment changes, the
  charge (``charge.*``) or the order (``order.*``) is read back from Pagar.me and **the API's status** is
  applied, not the body's. A charge the API does not show in a final state (pending, processing…) or
  does not know changes nothing: the event is NOT_CONFIRMED, for ops to look at. The API unreachable:
  the event stays RECEIVED and is retried with backoff (then by the sweep); never applied from the body.
- One payment fact per (charge id, resulting status): Pagar.me sends ``charge.paid`` and ``order.paid``
  for one payment; the second is a DUPLICATE and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.services.decision import order_billing_decide
from billing.services.payment_verdict import Verdict, payment_verdict
from billing.services.state import order_payment_status_set
from common.backoff import backoff_seconds
from common.money import brl
from common.versioning import version_bump
from integrations.pagarme.client import ChargeStatus, charge_parse, get_pagarme_client, order_parse
from integrations.pagarme.errors import PagarmeError, PagarmeInvalidId, PagarmeNotFound
from integrations.pagarme.events import InvalidEvent, event_parse
from integrations.pagarme.webhooks.models import PagarmeEvent, PagarmeWebhookRefusal
from integrations.webhooks import PAGARME, webhook_event_enqueue
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome, PaidVia, PaymentStatus

logger = logging.getLogger(__name__)

ACTOR = "pagarme"

# The event types handled, with the payment status each states. The status is only the body's claim:
# the charge itself (read from the API, or the body's when confirmation is off) decides what is applied.
EVENT_PAYMENT_STATUS: dict[str, PaymentStatus] = {
    "charge.paid": PaymentStatus.PAID,
    "order.paid": PaymentStatus.PAID,
    "charge.overpaid": PaymentStatus.PAID,
    "charge.underpaid": PaymentStatus.UNDERPAID,
    "charge.payment_failed": PaymentStatus.FAILED,
    "order.payment_failed": PaymentStatus.FAILED,
    "charge.refunded": PaymentStatus.REFUNDED,
    "charge.partial_canceled": PaymentStatus.PAID,
    "charge.chargedback": PaymentStatus.CHARGEDBACK,
    "chargeback.received": PaymentStatus.CHARGEDBACK,
}

# The stages of a payment's life. Moving forward is always applied (events arrive out of order, but
# a charge never goes back from paid to failed); moving back only for a strictly newer fact.
STAGE = {PaymentStatus.PENDING: 0, PaymentStatus.FAILED: 1, PaymentStatus.UNDERPAID: 2, PaymentStatus.PAID: 3,
         PaymentStatus.REFUNDED: 4, PaymentStatus.CHARGEDBACK: 4}

RETRY = "retry"


@dataclass(frozen=True)
class Confirmation:
    """What the API said of the event's charge (None with ``message`` when it could not say), and its status word."""

    charge: ChargeStatus | None
    api_status: str
    charge_id: str
    message: str = ""


def pagarme_event_process(*, event_pk: int) -> str:
    """Processes one RECEIVED event. Returns its new status, "already_processed", or RETRY (API unreachable)."""
    event = PagarmeEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status != PagarmeEvent.Status.RECEIVED:
        return "already_processed"
    try:
        # Outside any transaction: no row is locked while Pagar.me answers.
        confirmation = _confirmation_for(event)
    except PagarmeError as exc:
        # Unreachable, 5xx, 429, or our key refused: the event waits; nothing is applied from the body.
        return _postpone(event_pk, exc.message)

    with transaction.atomic():
        event = PagarmeEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != PagarmeEvent.Status.RECEIVED:
            return "already_processed"
        return _event_apply(event, confirmation)


def _confirmation_for(event: PagarmeEvent) -> Confirmation | None:
    """What Pagar.me's API says of the event's payment; None when no confirmation is asked for or possible yet."""
    try:
        parsed = event_parse(event.payload)
    except InvalidEvent:
        return None
    needs_api = (settings.PAGARME_CONFIRM_WITH_API and parsed.type in EVENT_PAYMENT_STATUS
                 and bool(parsed.bubble_order_id) and Order.objects.filter(bubble_id=parsed.bubble_order_id).exists())
    if not needs_api:
        return None
    try:
        return _confirm(parsed)
    except PagarmeNotFound as exc:
        return Confirmation(charge=None, api_status="not_found", charge_id=parsed.charge_id or "", message=exc.message)
    except PagarmeInvalidId as exc:
        # A forged id (``ch_../../x``): refused before any request, kept for ops.
        return Confirmation(charge=None, api_status="invalid_id", charge_id="", message=exc.message)


def _event_apply(event: PagarmeEvent, confirmation: Confirmation | None) -> str:
    """Under the event's row lock: the payment transition the event (as confirmed) asks for, at most once."""
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
    event.order_id = order.pk
    occurred_at = parsed.occurred_at
    if settings.PAGARME_CONFIRM_WITH_API:
        if confirmation is None:
            # The order appeared between the look and the lock: confirm on the next run.
            transaction.set_rollback(True)
            return _postpone(event.pk, "Pedido apareceu durante o processamento; confirmação na próxima tentativa.")
        _confirmation_store(event, confirmation)
        charge = confirmation.charge
        if charge is None:
            return _close(event, PagarmeEvent.Status.NOT_CONFIRMED, confirmation.message)
        occurred_at = charge.updated_at or occurred_at
    else:
        charge = _charge_from_body(event.payload)
    return _verdict_apply(event, order, charge, new_status, parsed.amount, occurred_at)


def _verdict_apply(event: PagarmeEvent, order: Order, charge: ChargeStatus | None, new_status: PaymentStatus,
                   body_amount: Decimal | None, occurred_at: datetime) -> str:
    """What the charge means for the LOCKED order (payment_verdict), applied at most once."""
    if charge is None:
        # Confirmation off and no charge in the body (e.g. chargeback.received): the type states it.
        verdict = Verdict(status=new_status, paid=body_amount)
    else:
        verdict = payment_verdict(charge=charge, bubble_id=order.bubble_id, order_amount=order.amount)
    if verdict.status is None:
        if verdict.flag:
            order_payment_flag(order=order, flag=verdict.flag, event_id=event.event_id, message=verdict.message)
        return _close(event, PagarmeEvent.Status.NOT_CONFIRMED, verdict.message)
    if verdict.partial_refund is not None and order.payment_status == PaymentStatus.PAID:
        return _partial_refund_apply(event, order, verdict)
    new_status = verdict.status
    earlier = _applied_before(event, new_status)
    if earlier:
        return _close(event, PagarmeEvent.Status.DUPLICATE,
                      f"Cobrança {event.charge_id} já aplicada como {new_status.label} pelo evento {earlier}.")
    applied, message = order_payment_apply(order=order, status=new_status, occurred_at=occurred_at, amount=verdict.paid,
                                           event_id=event.event_id, flag=verdict.flag, partial_refund=verdict.partial_refund)
    if applied:
        event.payment_status = new_status
    return _close(event, PagarmeEvent.Status.APPLIED if applied else PagarmeEvent.Status.STALE,
                  " ".join(filter(None, (message, verdict.message))))


def _charge_from_body(payload: dict[str, Any]) -> ChargeStatus | None:
    """Confirmation off: the body's charge, read exactly as the API's would be (None when it carries none)."""
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    try:
        if str(payload.get("type", "")).startswith("order."):
            return order_parse(data).main_charge
        if str(payload.get("type", "")).startswith("charge."):
            return charge_parse(data)
    except PagarmeError:
        return None
    return None


def _partial_refund_apply(event: PagarmeEvent, order: Order, verdict: Verdict) -> str:
    """A partial refund on a paid order: the refunded total is recorded and finance flagged; the payment stays paid.

    Pagar.me reports the refunded total (canceled_amount), so a repeat or an older event changes nothing.
    """
    refunded = verdict.partial_refund or Decimal("0")
    if refunded <= order.amount_refunded:
        return _close(event, PagarmeEvent.Status.DUPLICATE,
                      f"Estorno parcial de {brl(refunded)} já registrado (total estornado {brl(order.amount_refunded)}).")
    order.amount_refunded = refunded
    order.payment_flag = verdict.flag[:200]
    order.save(update_fields=["amount_refunded", "payment_flag", version_bump(order), "updated_at"])
    action_log_record(actor=ACTOR, action="payment_partial_refund", outcome=ActionOutcome.OK, order=order,
                      payload={"event_id": event.event_id, "charge_id": event.charge_id, "amount_refunded": str(refunded)},
                      message=verdict.message)
    return _close(event, PagarmeEvent.Status.APPLIED, verdict.message)


def order_payment_flag(*, order: Order, flag: str, event_id: str, message: str) -> None:
    """Flags a LOCKED order for finance without changing its payment (a charge of another order, no amount…)."""
    order.payment_flag = flag[:200]
    order.save(update_fields=["payment_flag", "updated_at"])
    action_log_record(actor=ACTOR, action="payment_flag", outcome=ActionOutcome.REJECTED, order=order,
                      payload={"event_id": event_id}, message=message)


def _confirmation_store(event: PagarmeEvent, confirmation: Confirmation) -> None:
    event.api_status = confirmation.api_status[:40]
    if confirmation.charge_id:
        event.charge_id = confirmation.charge_id[:100]


def _applied_before(event: PagarmeEvent, status: PaymentStatus) -> str | None:
    """The id of an event that already applied this (charge, status): Pagar.me sends charge.paid and order.paid for one payment."""
    if not event.charge_id:
        return None
    return (PagarmeEvent.objects.filter(charge_id=event.charge_id, payment_status=status, status=PagarmeEvent.Status.APPLIED)
            .exclude(pk=event.pk).values_list("event_id", flat=True).first())


def _confirm(parsed: Any) -> Confirmation:
    """Reads the charge (or the order's deciding charge) back from Pagar.me. Raises the client's errors."""
    client = get_pagarme_client()
    if parsed.type.startswith("order."):
        if not parsed.pagarme_order_id:
            return Confirmation(charge=None, api_status="", charge_id=parsed.charge_id or "",
                                message="Evento de pedido sem id do pedido no Pagar.me: não dá para confirmar.")
        order = client.get_order(parsed.pagarme_order_id)
        charge = order.main_charge
        if charge is None:
            return Confirmation(charge=None, api_status=order.status, charge_id=parsed.charge_id or "",
                                message=f"O pedido {order.id} não tem cobrança no Pagar.me (situação '{order.status}'): nada alterado.")
        return Confirmation(charge=charge, api_status=charge.status, charge_id=charge.id)
    if not parsed.charge_id:
        return Confirmation(charge=None, api_status="", charge_id="",
                            message="Evento de cobrança sem id da cobrança: não dá para confirmar.")
    charge = client.get_charge(parsed.charge_id)
    return Confirmation(charge=charge, api_status=charge.status, charge_id=charge.id)


def _postpone(event_pk: int, reason: str) -> str:
    """Counts a failed confirmation and sets when the next one is due (backoff with jitter)."""
    event = PagarmeEvent.objects.filter(pk=event_pk).only("attempts").first()
    attempts = (event.attempts if event else 0) + 1
    base, cap = settings.PAGARME_CONFIRM_RETRY_BASE_SECONDS, settings.PAGARME_CONFIRM_RETRY_MAX_SECONDS
    delay = backoff_seconds(attempts, base=base, cap=cap, jitter=(0.5, 1.0))
    PagarmeEvent.objects.filter(pk=event_pk, status=PagarmeEvent.Status.RECEIVED).update(
        attempts=F("attempts") + 1, next_attempt_at=timezone.now() + timedelta(seconds=delay),
        message=f"Aguardando confirmação do Pagar.me (tentativa {attempts}): {reason}"[:2000],
    )
    return RETRY


def pagarme_event_retry_delay(event_pk: int) -> float | None:
    """Seconds until the next confirmation of a postponed event; None when the sweep should take over."""
    event = PagarmeEvent.objects.filter(pk=event_pk, status=PagarmeEvent.Status.RECEIVED).only("attempts", "next_attempt_at").first()
    if event is None or event.next_attempt_at is None or event.attempts >= settings.PAGARME_CONFIRM_MAX_TRIES:
        return None
    return max(0.0, (event.next_attempt_at - timezone.now()).total_seconds())


def _close(event: PagarmeEvent, status: PagarmeEvent.Status, message: str) -> str:
    event.status = status
    event.message = message
    event.save()
    return status


def order_payment_apply(
    *, order: Order, status: PaymentStatus, occurred_at: datetime, amount: Decimal | None, event_id: str, flag: str = "",
    partial_refund: Decimal | None = None,
) -> tuple[bool, str]:
    """Applies one payment fact to a LOCKED order unless a newer fact is already applied.

    ``flag`` (over/underpaid, partial refund) goes to finance; ``amount`` is what Pagar.me received.
    """
    current = PaymentStatus(order.payment_status)
    newer = order.payment_state_at is None or occurred_at > order.payment_state_at
    if STAGE[status] <= STAGE[current]:
        if status == current or status == PaymentStatus.FAILED:
            # A failure never undoes a payment; a repeated fact changes nothing.
            return False, f"Pagamento já está {current.label}; evento ignorado."
        if not newer:
            # e.g. a paid event delivered after the refund that followed it.
            return False, f"Evento anterior ao estado atual ({current.label} em {order.payment_state_at:%d/%m/%Y %H:%M:%S}); ignorado."

    fields = [*order_payment_status_set(order=order, status=status, at=occurred_at), "updated_at"]
    message = f"Pagamento: {status.label} (evento {event_id})."
    if status in (PaymentStatus.PAID, PaymentStatus.UNDERPAID):
        order.paid_via = PaidVia.PAGARME
        order.paid_at = occurred_at
        order.amount_paid = max(order.amount_paid, amount if amount is not None else (order.amount or Decimal("0")))
        fields += ["paid_via", "paid_at", "amount_paid"]
    if status in (PaymentStatus.REFUNDED, PaymentStatus.CHARGEDBACK):
        # Flagged for ops; the NF (if any) stays as it is until someone decides to cancel it.
        flag = f"{status.label} recebido em {timezone.localtime(occurred_at):%d/%m/%Y %H:%M}: verifique a NF e o pedido."
    if partial_refund is not None and partial_refund > order.amount_refunded:
        order.amount_refunded = partial_refund
        fields.append("amount_refunded")
    if flag:
        order.payment_flag = flag[:200]
        fields.append("payment_flag")
    fields.append(version_bump(order))
    order.save(update_fields=fields)
    action_log_record(actor=ACTOR, action="payment_update", outcome=ActionOutcome.OK, order=order, payload={"event_id": event_id},
                      message=message)
    if status == PaymentStatus.PAID:
        order_billing_decide(order=order, actor=ACTOR)
    return True, message


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
            webhook_event_enqueue(PAGARME, pk, on_commit=True)
    return len(ids)


# Kept after PAGARME_EVENT_RETENTION_DAYS: enough to audit a payment, nothing personal.
_KEPT_FIELDS = ("id", "code", "status", "amount", "paid_amount", "currency", "payment_method", "created_at", "updated_at", "paid_at")


def pagarme_events_reduce(*, now: datetime | None = None, batch: int = 500) -> int:
    """LGPD: reduces payloads older than the retention to ids, type, charge id, status, amounts and times.

    Refused-webhook records older than the retention are deleted. Returns how many events were reduced.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PAGARME_EVENT_RETENTION_DAYS)
    reduced = 0
    while True:
        with transaction.atomic():
            events = list(PagarmeEvent.objects.select_for_update(skip_locked=True)
                          .filter(received_at__lt=cutoff, reduced_at__isnull=True).order_by("id")[:batch])
            for event in events:
                event.payload = payload_reduce(event.payload)
                event.reduced_at = timezone.now()
            PagarmeEvent.objects.bulk_update(events, ["payload", "reduced_at"])
        reduced += len(events)
        if len(events) < batch:
            break
    PagarmeWebhookRefusal.objects.filter(received_at__lt=cutoff).delete()
    return reduced


def payload_reduce(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    kept: dict[str, Any] = {key: payload[key] for key in ("id", "type", "created_at") if key in payload}
    kept["data"] = {key: data[key] for key in _KEPT_FIELDS if key in data}
    charges = data.get("charges")
    if isinstance(charges, list):
        kept["data"]["charges"] = [{key: c[key] for key in _KEPT_FIELDS if key in c} for c in charges if isinstance(c, dict)]
    order = data.get("order")
    if isinstance(order, dict):
        kept["data"]["order"] = {key: order[key] for key in ("id", "code", "status", "amount") if key in order}
    return kept
