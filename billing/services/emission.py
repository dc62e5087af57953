"""NFS-e emission and cancellation, one Omie call per step (SPEC §5.2; cancel-nf of §5.3).

    emission:      FATURAR ──► POLL_NFSE ──► ISSUED          (or FAILED with Omie's / the city hall's words)
    after a reject: REENVIAR ──► POLL_NFSE                    (retry: the OS is already billed in Omie)
    cancel-nf:     CANCEL ──► POLL_CANCEL ──► CANCELLED      (or back to ISSUED with the reason)

The rule that makes FaturarOS happen at most once per invoice: ``faturar_requested_at`` is
committed before the call, and while it is set without a known result, the only thing any worker
may do is ConsultarOS (``InfoCadastro.cFaturada``). Only an answer that proves the call never
reached Omie (our own throttle refused it) clears the mark. A FaturarOS that Omie refused (a
business error) leaves the mark too, so after ops fix the data the retry consults before sending.
CancelarOS follows the same rule with ``cancel_sent_at``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import FailureStage, Invoice, InvoiceStep
from billing.services.omie_webhooks import first_poll_seconds
from billing.services.state import order_billing_status_set
from billing.services.work import backoff_seconds, invoice_enqueue, invoice_lease_extend, invoice_lease_take
from integrations.http import IntegrationError
from orders.models import Order
from orders.services.action_log import action_log_record, actor_for_task
from orders.statuses import ActionOutcome, BillingStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("billing.invoice_step")


@dataclass(frozen=True)
class StepResult:
    outcome: str
    # Set when the throttle asked for a short wait: the task re-queues itself, keeping the lease.
    retry_in: float | None = None
    lease: UUID | None = None


SKIPPED = StepResult("skipped")


def order_emission_start(*, order: Order, actor: str) -> Invoice:
    """A due order goes to ISSUING with a new invoice whose first step is FaturarOS.

    The caller holds the order's row lock and has checked that the order is SCHEDULED and due.
    """
    invoice = Invoice.objects.create(
        order=order, status=BillingStatus.ISSUING, requested_by=actor, next_step=InvoiceStep.FATURAR, next_poll_at=timezone.now()
    )
    order_billing_status_set(order=order, status=BillingStatus.ISSUING, invoice=invoice)
    action_log_record(actor=actor, action="billing_emit", outcome=ActionOutcome.OK, order=order, message="Emissão da NFS-e iniciada.")
    invoice_enqueue(invoice_id=invoice.pk)
    return invoice


# --------------------------------------------------------------------------------------------
# The step runner
# --------------------------------------------------------------------------------------------


@dataclass
class _Step:
    invoice: Invoice
    lease: UUID

    @property
    def key(self) -> str:
        return self.invoice.order.bubble_id


def invoice_step_run(*, invoice_id: int, token: str) -> StepResult:
    """Runs the invoice's due step if the lease behind ``token`` is still valid; else does nothing."""
    lease = invoice_lease_take(invoice_id=invoice_id, token=token)
    if lease is None:
        return SKIPPED
    invoice = Invoice.objects.select_related("order").get(pk=invoice_id)
    handler = _HANDLERS.get(invoice.next_step)
    if handler is None or (invoice.next_poll_at and invoice.next_poll_at > timezone.now() + timedelta(seconds=1)):
        _store(_Step(invoice, lease), {})
        return SKIPPED
    return handler(_Step(invoice, lease))


def _omie() -> Any:
    from integrations.omie.client import get_omie_client

    return get_omie_client()


def _errors() -> tuple[type[Exception], type[Exception]]:
    from integrations.omie.errors import OmieBusinessError, OmieNotNow

    return OmieNotNow, OmieBusinessError


def _store(
    step: _Step,
    fields: dict[str, Any],
    *,
    release: bool = True,
    order_status: BillingStatus | None = None,
    last_error: str = "",
    action: str = "",
    message: str = "",
    outcome: ActionOutcome = ActionOutcome.OK,
) -> bool:
    """Writes the step's result while (and only if) the lease is still ours; the order changes with it."""
    now = timezone.now()
    if release:
        fields = {**fields, "lease_token": None, "leased_until": None}
    with transaction.atomic():
        # Lock order before invoice, as every ops action does, so the two never deadlock.
        order = Order.objects.select_for_update().get(pk=step.invoice.order_id) if order_status else None
        if not Invoice.objects.filter(pk=step.invoice.pk, lease_token=step.lease).update(**fields, updated_at=now):
            logger.warning("invoice %s: lease lost before storing the step result", step.invoice.pk)
            return False
        step.invoice.refresh_from_db()
        if order is not None and order_status is not None:
            order_billing_status_set(order=order, status=order_status, invoice=step.invoice, last_error=last_error)
            action_log_record(actor=ACTOR, action=action, outcome=outcome, order=order, message=message)
    return True


def _reschedule(step: _Step, *, delay: float, attempts: int | None = None, error: str = "", **fields: Any) -> StepResult:
    fields["next_poll_at"] = timezone.now() + timedelta(seconds=delay)
    if attempts is not None:
        fields["step_attempts"] = attempts
    if error:
        fields["last_step_error"] = error[:2000]
    _store(step, fields)
    return StepResult("rescheduled")


def _read_wait(invoice: Invoice) -> float:
    """Seconds before this OS may be consulted again (Omie's REDUNDANT window)."""
    if not invoice.last_read_at:
        return 0.0
    ready = invoice.last_read_at + timedelta(seconds=settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS)
    return max(0.0, (ready - timezone.now()).total_seconds())


def _throttled(step: _Step, exc: IntegrationError) -> StepResult:
    """Our throttle (or Omie) said "not now" and nothing happened: wait, without counting an attempt."""
    wait = max(0.05, float(exc.retry_after or 0)) * random.uniform(1.0, 1.1)
    short = wait <= settings.BILLING_INLINE_WAIT_MAX_SECONDS
    if short and invoice_lease_extend(invoice_id=step.invoice.pk, lease=step.lease, seconds=wait):
        return StepResult("retry", retry_in=wait, lease=step.lease)
    return _reschedule(step, delay=wait)


def _failed_attempt(step: _Step, exc: Exception, *, on_exhausted: Callable[[str], StepResult] | None) -> StepResult:
    """A call failed in a way retrying can fix (transient, or an unknown outcome): back off, bounded."""
    attempts = step.invoice.step_attempts + 1
    message = getattr(exc, "message", "") or str(exc)
    if attempts >= settings.BILLING_STEP_MAX_ATTEMPTS and on_exhausted is not None:
        return on_exhausted(f"Omie indisponível após {attempts} tentativas: {message}")
    delay = max(backoff_seconds(attempts), float(getattr(exc, "retry_after", None) or 0))
    return _reschedule(step, delay=delay, attempts=attempts, error=message)


def _sent_for_sure(exc: Exception) -> bool:
    """False only when the error proves the request was not processed by Omie."""
    not_now, _ = _errors()
    if isinstance(exc, not_now):
        return bool(getattr(exc, "outcome_unknown", False))
    return True


# --------------------------------------------------------------------------------------------
# Outcomes that move the order
# --------------------------------------------------------------------------------------------


def _fail(step: _Step, *, stage: FailureStage, message: str, city_hall_message: str = "") -> StepResult:
    fields: dict[str, Any] = {
        "status": BillingStatus.FAILED, "failure_stage": stage, "next_step": InvoiceStep.NONE, "next_poll_at": None,
        "step_attempts": 0, "last_step_error": message[:2000],
    }
    if city_hall_message:
        fields["city_hall_message"] = city_hall_message
    _store(step, fields, order_status=BillingStatus.FAILED, last_error=message, action="billing_failed", message=message,
           outcome=ActionOutcome.ERROR)
    return StepResult("failed")


def _issued(step: _Step, status: Any) -> StepResult:
    raw = status.raw or {}
    fields = {
        "status": BillingStatus.ISSUED, "nfse_number": str(status.number), "verification_code": status.verification_code or "",
        "nfse_url": status.url or "", "rps_status": str(raw.get("cStatusRps") or "")[:20],
        "lot_status": str(raw.get("cStatusLote") or "")[:20],
        "city_hall_message": status.message or "", "issued_at": timezone.now(), "failure_stage": FailureStage.NONE,
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "last_step_error": "",
    }
    _store(step, fields, order_status=BillingStatus.ISSUED, action="billing_issued", message=f"NFS-e {status.number} emitida.")
    return StepResult("issued")


def _cancelled(step: _Step) -> StepResult:
    fields = {
        "status": BillingStatus.CANCELLED, "cancelled_at": timezone.now(),
        "cancel_accepted_at": step.invoice.cancel_accepted_at or timezone.now(),
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "last_step_error": "", "cancel_error": "",
    }
    message = f"NFS-e {step.invoice.nfse_number} cancelada."
    _store(step, fields, order_status=BillingStatus.CANCELLED, action="nf_cancelled", message=message)
    return StepResult("cancelled")


def _cancel_failed(step: _Step, message: str) -> StepResult:
    """SPEC §5.3: a cancellation that fails returns the NF to ISSUED, with the reason."""
    fields = {
        "status": BillingStatus.ISSUED, "cancel_error": message[:2000], "cancel_sent_at": None, "cancel_accepted_at": None,
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "poll_count": 0, "last_step_error": message[:2000],
    }
    _store(step, fields, order_status=BillingStatus.ISSUED, last_error=message, action="nf_cancel_failed", message=message,
           outcome=ActionOutcome.ERROR)
    return StepResult("cancel_failed")


def _poll_next(step: _Step, *, step_name: InvoiceStep, delay: float, **fields: Any) -> StepResult:
    return _reschedule(step, delay=delay, attempts=0, next_step=step_name, **fields)


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------


def _faturar(step: _Step) -> StepResult:
    not_now, business = _errors()
    client = _omie()
    invoice, order = step.invoice, step.invoice.order
    exhausted = lambda msg: _fail(step, stage=FailureStage.FATURAR, message=msg)  # noqa: E731

    if invoice.faturar_outcome_unknown:
        # FaturarOS may have reached Omie: only ConsultarOS may tell, never a second FaturarOS.
        wait = _read_wait(invoice)
        if wait > 0:
            return _reschedule(step, delay=wait)
        try:
            info = client.consultar_os(c_cod_int_os=step.key, order_id=order.pk)
        except not_now as exc:
            return _throttled(step, exc)
        except IntegrationError as exc:
            return _failed_attempt(step, exc, on_exhausted=exhausted)
        _store(step, {"last_read_at": timezone.now()}, release=False)
        if info is None:
            return _fail(step, stage=FailureStage.FATURAR, message="OS não encontrada no Omie; verifique a sincronização do pedido.")
        if info.faturada:
            return _poll_next(step, step_name=InvoiceStep.POLL_NFSE, delay=first_poll_seconds(),
                              faturar_accepted_at=timezone.now(), poll_count=0)
        # Proven not billed: the earlier request never took effect, so it may be sent now.
        if not _store(step, {"faturar_requested_at": None}, release=False):
            return SKIPPED
        invoice.faturar_requested_at = None

    now = timezone.now()
    with transaction.atomic():
        marked = Invoice.objects.filter(pk=invoice.pk, lease_token=step.lease, faturar_requested_at__isnull=True).update(
            faturar_requested_at=now, faturar_attempts=F("faturar_attempts") + 1, updated_at=now
        )
        if not marked:
            return SKIPPED
        Order.objects.filter(pk=order.pk).update(billing_attempts=F("billing_attempts") + 1)
    # The mark is committed: from here on a crash leaves an "unknown outcome", never a blind resend.
    try:
        client.faturar_os(c_cod_int_os=step.key, order_id=order.pk)
    except not_now as exc:
        if _sent_for_sure(exc):
            return _failed_attempt(step, exc, on_exhausted=exhausted)
        _store(step, {"faturar_requested_at": None}, release=False)
        return _throttled(step, exc)
    except business as exc:
        return _fail(step, stage=FailureStage.FATURAR, message=f"Omie recusou o faturamento: {exc.message}")
    except IntegrationError as exc:
        return _failed_attempt(step, exc, on_exhausted=exhausted)
    return _poll_next(step, step_name=InvoiceStep.POLL_NFSE, delay=first_poll_seconds(),
                      faturar_accepted_at=timezone.now(), poll_count=0)


def _poll_nfse(step: _Step) -> StepResult:
    not_now, _ = _errors()
    wait = _read_wait(step.invoice)
    if wait > 0:
        return _reschedule(step, delay=wait)
    try:
        status = _omie().status_os(c_cod_int_os=step.key, order_id=step.invoice.order_id)
    except not_now as exc:
        return _throttled(step, exc)
    except IntegrationError as exc:
        # Polling never gives up on its own: the NFS-e may still come. The dashboard shows it stuck.
        return _failed_attempt(step, exc, on_exhausted=None)
    polls = step.invoice.poll_count + 1
    _store(step, {"last_read_at": timezone.now(), "poll_count": polls}, release=False)
    step.invoice.poll_count = polls
    if status.state == "issued" and status.number:
        return _issued(step, status)
    if status.state == "rejected":
        message = status.message or "sem mensagem"
        return _fail(step, stage=FailureStage.NFSE, message=f"Prefeitura rejeitou a NFS-e: {message}", city_hall_message=message)
    return _poll_next(step, step_name=InvoiceStep.POLL_NFSE, delay=backoff_seconds(polls))


def _reenviar(step: _Step) -> StepResult:
    not_now, business = _errors()
    now = timezone.now()
    if not _store(step, {"reenviar_requested_at": now}, release=False):
        return SKIPPED
    Order.objects.filter(pk=step.invoice.order_id).update(billing_attempts=F("billing_attempts") + 1)
    try:
        _omie().reenviar_os(c_cod_int_os=step.key, order_id=step.invoice.order_id)
    except not_now as exc:
        return _throttled(step, exc) if not _sent_for_sure(exc) else _failed_attempt(step, exc, on_exhausted=None)
    except business as exc:
        return _fail(step, stage=FailureStage.NFSE, message=f"Omie recusou o reenvio da NFS-e: {exc.message}")
    except IntegrationError as exc:
        # Re-sending the RPS twice is harmless (unlike FaturarOS): just try again later.
        return _failed_attempt(step, exc, on_exhausted=lambda msg: _fail(step, stage=FailureStage.NFSE, message=msg))
    return _poll_next(step, step_name=InvoiceStep.POLL_NFSE, delay=first_poll_seconds(), poll_count=0)


def _cancel(step: _Step) -> StepResult:
    not_now, business = _errors()
    client = _omie()
    invoice = step.invoice
    exhausted = lambda msg: _cancel_failed(step, msg)  # noqa: E731

    if invoice.cancel_sent_at and not invoice.cancel_accepted_at:
        wait = _read_wait(invoice)
        if wait > 0:
            return _reschedule(step, delay=wait)
        try:
            info = client.consultar_os(c_cod_int_os=step.key, order_id=invoice.order_id)
        except not_now as exc:
            return _throttled(step, exc)
        except IntegrationError as exc:
            return _failed_attempt(step, exc, on_exhausted=exhausted)
        _store(step, {"last_read_at": timezone.now()}, release=False)
        if info is not None and info.cancelada:
            return _cancelled(step)
        if not _store(step, {"cancel_sent_at": None}, release=False):
            return SKIPPED

    now = timezone.now()
    mine = Invoice.objects.filter(pk=invoice.pk, lease_token=step.lease, cancel_sent_at__isnull=True)
    if not mine.update(cancel_sent_at=now, updated_at=now):
        return SKIPPED
    try:
        client.cancelar_os(c_cod_int_os=step.key, order_id=invoice.order_id)
    except not_now as exc:
        if _sent_for_sure(exc):
            return _failed_attempt(step, exc, on_exhausted=exhausted)
        _store(step, {"cancel_sent_at": None}, release=False)
        return _throttled(step, exc)
    except business as exc:
        return _cancel_failed(step, f"Omie recusou o cancelamento: {exc.message}")
    except IntegrationError as exc:
        return _failed_attempt(step, exc, on_exhausted=exhausted)
    return _poll_next(step, step_name=InvoiceStep.POLL_CANCEL, delay=settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS,
                      cancel_accepted_at=timezone.now(), poll_count=0)


def _poll_cancel(step: _Step) -> StepResult:
    not_now, _ = _errors()
    wait = _read_wait(step.invoice)
    if wait > 0:
        return _reschedule(step, delay=wait)
    try:
        info = _omie().consultar_os(c_cod_int_os=step.key, order_id=step.invoice.order_id)
    except not_now as exc:
        return _throttled(step, exc)
    except IntegrationError as exc:
        return _failed_attempt(step, exc, on_exhausted=lambda msg: _cancel_failed(step, msg))
    polls = step.invoice.poll_count + 1
    _store(step, {"last_read_at": timezone.now(), "poll_count": polls}, release=False)
    if info is not None and info.cancelada:
        return _cancelled(step)
    if polls >= settings.BILLING_CANCEL_CONFIRM_MAX_POLLS:
        return _cancel_failed(step, "O Omie não confirmou o cancelamento da NFS-e; verifique no Omie antes de tentar de novo.")
    return _poll_next(step, step_name=InvoiceStep.POLL_CANCEL, delay=backoff_seconds(polls))


_HANDLERS: dict[str, Callable[[_Step], StepResult]] = {
    InvoiceStep.FATURAR: _faturar,
    InvoiceStep.POLL_NFSE: _poll_nfse,
    InvoiceStep.REENVIAR: _reenviar,
    InvoiceStep.CANCEL: _cancel,
    InvoiceStep.POLL_CANCEL: _poll_cancel,
}
