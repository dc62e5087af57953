"""NFS-e emission and cancellation, one Omie call per step (docs/contract.md#billing-and-emission;
cancel-nf: docs/contract.md#ops-actions).

    emission:      FATURAR ──► POLL_NFSE ──► ISSUED          (or FAILED with Omie's / the city hall's words)
    after a reject: REENVIAR ──► POLL_NFSE                    (retry: the OS is already billed in Omie)
    cancel-nf:     CANCEL ──► POLL_CANCEL ──► CANCELLED      (or back to ISSUED with the reason)

``_step_run`` names the function of each step and ``NEXT_STEP`` the step after it, in one place.

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
from uuid import UUID, uuid4

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import FailureStage, Invoice, InvoiceStep
from billing.services.nfse_archive import nfse_archive_cancellation_record, nfse_archive_request
from billing.services.omie_webhooks import first_poll_seconds
from billing.services.state import invoice_create, invoice_status_fields, order_billing_status_set
from billing.services.work import backoff_seconds, invoice_enqueue, invoice_lease_extend, invoice_lease_take, lease_free
from integrations.http import IntegrationError
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieBusinessError, OmieNotNow
from integrations.omie.types import NfseStatus
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
    invoice = invoice_create(
        order=order, status=BillingStatus.ISSUING, requested_by=actor, next_step=InvoiceStep.FATURAR, next_poll_at=timezone.now()
    )
    order_billing_status_set(order=order, status=BillingStatus.ISSUING, invoice=invoice)
    action_log_record(actor=actor, action="billing_emit", outcome=ActionOutcome.OK, order=order, message="Emissão da NFS-e iniciada.")
    invoice_enqueue(invoice_id=invoice.pk)
    return invoice


# --------------------------------------------------------------------------------------------
# The flow: which step runs now, and which one after it
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
    step = _Step(invoice, lease)
    if invoice.next_poll_at and invoice.next_poll_at > timezone.now() + timedelta(seconds=1):
        _store(step, {})
        return SKIPPED
    return _step_run(step)


def _step_run(step: _Step) -> StepResult:
    match step.invoice.next_step:
        case InvoiceStep.FATURAR:
            return _faturar(step)
        case InvoiceStep.POLL_NFSE:
            return _poll_nfse(step)
        case InvoiceStep.REENVIAR:
            return _reenviar(step)
        case InvoiceStep.CANCEL:
            return _cancel(step)
        case InvoiceStep.POLL_CANCEL:
            return _poll_cancel(step)
    _store(step, {})  # no step due (NONE): just give the lease back
    return SKIPPED


# The step after one whose Omie call went through, while the NFS-e is not final yet. The final
# outcomes are _issued, _fail, _cancelled and _cancel_failed.
NEXT_STEP: dict[str, InvoiceStep] = {
    InvoiceStep.FATURAR: InvoiceStep.POLL_NFSE,  # billed: wait for the city hall's answer
    InvoiceStep.REENVIAR: InvoiceStep.POLL_NFSE,  # RPS re-sent: same
    InvoiceStep.POLL_NFSE: InvoiceStep.POLL_NFSE,  # no answer yet: poll again, backing off
    InvoiceStep.CANCEL: InvoiceStep.POLL_CANCEL,  # cancellation sent: wait until Omie shows it cancelled
    InvoiceStep.POLL_CANCEL: InvoiceStep.POLL_CANCEL,
}


def _advance(step: _Step, *, delay: float, **fields: Any) -> StepResult:
    """Schedules the step that follows the current one (``NEXT_STEP``) after ``delay`` seconds."""
    return _reschedule(step, delay=delay, attempts=0, next_step=NEXT_STEP[step.invoice.next_step], **fields)


# --------------------------------------------------------------------------------------------
# Calling Omie and storing what it said
# --------------------------------------------------------------------------------------------


def _omie() -> Any:
    return get_omie_client()


def _call_omie(
    step: _Step,
    call: Callable[[], Any],
    *,
    exhausted: Callable[[str], StepResult] | None,
    refused: Callable[[str], StepResult] | None = None,
    write: bool = False,
    mark: str = "",
) -> tuple[Any, StepResult | None]:
    """One Omie call of a step: ``(answer, None)``, or ``(None, result)`` when it failed.

    - "not now" (our throttle, or Omie's): wait without spending an attempt, unless a ``write`` may
      have reached Omie (outcome unknown): that is a failed attempt and its ``mark`` stays set, so
      the next run consults before sending again. A write proven unsent has its ``mark`` cleared.
    - Omie refused a write (business error): ``refused`` ends the step with Omie's words.
    - Anything else: a failed attempt, backed off; ``exhausted`` after the maximum (None: never).
    """
    try:
        return call(), None
    except OmieNotNow as exc:
        if write and _sent_for_sure(exc):
            return None, _failed_attempt(step, exc, on_exhausted=exhausted)
        if mark:
            _store(step, {mark: None}, release=False)
        return None, _throttled(step, exc)
    except OmieBusinessError as exc:
        if refused is not None:
            return None, refused(exc.message)
        return None, _failed_attempt(step, exc, on_exhausted=exhausted)
    except IntegrationError as exc:
        return None, _failed_attempt(step, exc, on_exhausted=exhausted)


def _read_os(
    step: _Step, call: Callable[[], Any], *, exhausted: Callable[[str], StepResult] | None, count_poll: bool = False
) -> tuple[Any, StepResult | None]:
    """A read of the OS no sooner than Omie's same-OS window allows; its time (and poll count) stored."""
    wait = _read_wait(step.invoice)
    if wait > 0:
        return None, _reschedule(step, delay=wait)
    answer, stop = _call_omie(step, call, exhausted=exhausted)
    if stop is not None:
        return None, stop
    fields: dict[str, Any] = {"last_read_at": timezone.now()}
    if count_poll:
        fields["poll_count"] = step.invoice.poll_count + 1
    _store(step, fields, release=False)
    step.invoice.poll_count = fields.get("poll_count", step.invoice.poll_count)
    return answer, None


def _consult(step: _Step, *, exhausted: Callable[[str], StepResult], count_poll: bool = False) -> tuple[Any, StepResult | None]:
    """ConsultarOS by the order's integration key (``_read_os``)."""
    return _read_os(
        step, lambda: _omie().consultar_os(c_cod_int_os=step.key, order_id=step.invoice.order_id),
        exhausted=exhausted, count_poll=count_poll,
    )


def _write(
    step: _Step,
    call: Callable[[], Any],
    *,
    exhausted: Callable[[str], StepResult],
    refused: Callable[[str], StepResult],
    delay: float,
    mark: str = "",
    accepted: str = "",
) -> StepResult:
    """Sends one write (``_call_omie``); once Omie took it, stamps ``accepted`` and schedules ``NEXT_STEP``."""
    _, stop = _call_omie(step, call, exhausted=exhausted, refused=refused, write=True, mark=mark)
    if stop is not None:
        return stop
    fields: dict[str, Any] = {"poll_count": 0}
    if accepted:
        fields[accepted] = timezone.now()
    return _advance(step, delay=delay, **fields)


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


def _sent_for_sure(exc: OmieNotNow) -> bool:
    """False only when the error proves the request was not processed by Omie."""
    return bool(getattr(exc, "outcome_unknown", False))


# --------------------------------------------------------------------------------------------
# Final outcomes
# --------------------------------------------------------------------------------------------


def _fail(step: _Step, *, stage: FailureStage, message: str, city_hall_message: str = "") -> StepResult:
    fields: dict[str, Any] = {
        **invoice_status_fields(invoice=step.invoice, status=BillingStatus.FAILED),
        "failure_stage": stage, "next_step": InvoiceStep.NONE, "next_poll_at": None,
        "step_attempts": 0, "last_step_error": message[:2000],
    }
    if city_hall_message:
        fields["city_hall_message"] = city_hall_message
    _store(step, fields, order_status=BillingStatus.FAILED, last_error=message, action="billing_failed", message=message,
           outcome=ActionOutcome.ERROR)
    return StepResult("failed")


def _issued(step: _Step, status: Any) -> StepResult:
    fields = {
        **invoice_status_fields(invoice=step.invoice, status=BillingStatus.ISSUED),
        "nfse_number": str(status.number), "verification_code": status.verification_code or "",
        "nfse_url": status.url or "", "rps_status": status.rps_status[:20], "lot_status": status.lot_status[:20],
        "city_hall_message": status.message or "", "issued_at": timezone.now(), "failure_stage": FailureStage.NONE,
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "last_step_error": "",
    }
    if _store(step, fields, order_status=BillingStatus.ISSUED, action="billing_issued", message=f"NFS-e {status.number} emitida."):
        # The PDF and XML are fetched and archived by their own task (docs/nfse_documents.md).
        with transaction.atomic():
            nfse_archive_request(invoice=step.invoice)
    return StepResult("issued")


def _cancelled(step: _Step) -> StepResult:
    fields = {
        **invoice_status_fields(invoice=step.invoice, status=BillingStatus.CANCELLED),
        "cancelled_at": timezone.now(),
        "cancel_accepted_at": step.invoice.cancel_accepted_at or timezone.now(),
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "last_step_error": "", "cancel_error": "",
    }
    message = f"NFS-e {step.invoice.nfse_number} cancelada."
    if _store(step, fields, order_status=BillingStatus.CANCELLED, action="nf_cancelled", message=message):
        nfse_archive_cancellation_record(invoice=step.invoice)  # the documents stay; the cancellation is noted
    return StepResult("cancelled")


def _cancel_failed(step: _Step, message: str) -> StepResult:
    """docs/contract.md#ops-actions: a cancellation that fails returns the NF to ISSUED, with the reason."""
    fields = {
        **invoice_status_fields(invoice=step.invoice, status=BillingStatus.ISSUED),
        "cancel_error": message[:2000], "cancel_sent_at": None, "cancel_accepted_at": None,
        "next_step": InvoiceStep.NONE, "next_poll_at": None, "step_attempts": 0, "poll_count": 0, "last_step_error": message[:2000],
    }
    _store(step, fields, order_status=BillingStatus.ISSUED, last_error=message, action="nf_cancel_failed", message=message,
           outcome=ActionOutcome.ERROR)
    return StepResult("cancel_failed")


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------


def _faturar(step: _Step) -> StepResult:
    invoice, order = step.invoice, step.invoice.order
    if invoice.faturar_outcome_unknown:
        # FaturarOS may have reached Omie: only ConsultarOS may tell, never a second FaturarOS.
        settled = _faturar_settle(step)
        if settled is not None:
            return settled

    now = timezone.now()
    with transaction.atomic():
        marked = Invoice.objects.filter(pk=invoice.pk, lease_token=step.lease, faturar_requested_at__isnull=True).update(
            faturar_requested_at=now, faturar_attempts=F("faturar_attempts") + 1, updated_at=now
        )
        if not marked:
            return SKIPPED
        Order.objects.filter(pk=order.pk).update(billing_attempts=F("billing_attempts") + 1)
    # The mark is committed: from here on a crash leaves an "unknown outcome", never a blind resend.
    return _write(
        step, lambda: _omie().faturar_os(c_cod_int_os=step.key, order_id=order.pk),
        exhausted=lambda msg: _fail(step, stage=FailureStage.FATURAR, message=msg),
        refused=lambda msg: _fail(step, stage=FailureStage.FATURAR, message=f"Omie recusou o faturamento: {msg}"),
        mark="faturar_requested_at", accepted="faturar_accepted_at", delay=first_poll_seconds(),
    )


def _faturar_settle(step: _Step) -> StepResult | None:
    """ConsultarOS after a FaturarOS of unknown outcome; None when proven not billed (send it now)."""
    info, stop = _consult(step, exhausted=lambda msg: _fail(step, stage=FailureStage.FATURAR, message=msg))
    if stop is not None:
        return stop
    if info is None:
        return _fail(step, stage=FailureStage.FATURAR, message="OS não encontrada no Omie; verifique a sincronização do pedido.")
    if info.faturada:
        return _advance(step, delay=first_poll_seconds(), faturar_accepted_at=timezone.now(), poll_count=0)
    # Proven not billed: the earlier request never took effect, so it may be sent now.
    if not _store(step, {"faturar_requested_at": None}, release=False):
        return SKIPPED
    step.invoice.faturar_requested_at = None
    return None


def _poll_nfse(step: _Step) -> StepResult:
    # Polling never gives up on its own (no ``exhausted``): the NFS-e may still come; the dashboard shows it stuck.
    status, stop = _read_os(step, lambda: _status_os(step), exhausted=None, count_poll=True)
    if stop is not None:
        return stop
    if status.state == "issued" and status.number:
        return _issued(step, status)
    if status.state == "rejected":
        message = status.message or "sem mensagem"
        return _fail(step, stage=FailureStage.NFSE, message=f"Prefeitura rejeitou a NFS-e: {message}", city_hall_message=message)
    if status.state == "cancelled":
        return _fail(step, stage=FailureStage.NFSE,
                     message="O Omie mostra a NFS-e desta OS cancelada sem que o cancelamento tenha sido pedido aqui; verifique no Omie.")
    return _advance(step, delay=backoff_seconds(step.invoice.poll_count))


def _status_os(step: _Step) -> Any:
    return _omie().status_os(c_cod_int_os=step.key, order_id=step.invoice.order_id)


def _reenviar(step: _Step) -> StepResult:
    if not _store(step, {"reenviar_requested_at": timezone.now()}, release=False):
        return SKIPPED
    Order.objects.filter(pk=step.invoice.order_id).update(billing_attempts=F("billing_attempts") + 1)
    # Re-sending the RPS twice is harmless (unlike FaturarOS): no mark to consult, just try again later.
    return _write(
        step, lambda: _omie().reenviar_os(c_cod_int_os=step.key, order_id=step.invoice.order_id),
        exhausted=lambda msg: _fail(step, stage=FailureStage.NFSE, message=msg),
        refused=lambda msg: _fail(step, stage=FailureStage.NFSE, message=f"Omie recusou o reenvio da NFS-e: {msg}"),
        delay=first_poll_seconds(),
    )


def _cancel(step: _Step) -> StepResult:
    invoice = step.invoice
    if invoice.cancel_sent_at and not invoice.cancel_accepted_at:
        # CancelarOS may have reached Omie: consult before sending it again.
        settled = _cancel_settle(step)
        if settled is not None:
            return settled

    now = timezone.now()
    mine = Invoice.objects.filter(pk=invoice.pk, lease_token=step.lease, cancel_sent_at__isnull=True)
    if not mine.update(cancel_sent_at=now, updated_at=now):
        return SKIPPED
    return _write(
        step, lambda: _omie().cancelar_os(c_cod_int_os=step.key, order_id=invoice.order_id),
        exhausted=lambda msg: _cancel_failed(step, msg),
        refused=lambda msg: _cancel_failed(step, f"Omie recusou o cancelamento: {msg}"),
        mark="cancel_sent_at", accepted="cancel_accepted_at", delay=settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS,
    )


def _cancel_settle(step: _Step) -> StepResult | None:
    """ConsultarOS after a CancelarOS of unknown outcome; None when not cancelled (send it now)."""
    info, stop = _consult(step, exhausted=lambda msg: _cancel_failed(step, msg))
    if stop is not None:
        return stop
    if info is not None and info.cancelada:
        return _cancelled(step)
    if not _store(step, {"cancel_sent_at": None}, release=False):
        return SKIPPED
    return None


def _poll_cancel(step: _Step) -> StepResult:
    """StatusOS until Omie shows the cancellation: the latest RPS ``005`` (or the OS ``cCancelada``)."""
    status, stop = _read_os(step, lambda: _status_os(step), exhausted=lambda msg: _cancel_failed(step, msg), count_poll=True)
    if stop is not None:
        return stop
    if status.state == "cancelled" or status.os_cancelled:
        return _cancelled(step)
    if step.invoice.poll_count >= settings.BILLING_CANCEL_CONFIRM_MAX_POLLS:
        return _cancel_failed(step, "O Omie não confirmou o cancelamento da NFS-e; verifique no Omie antes de tentar de novo.")
    return _advance(step, delay=backoff_seconds(step.invoice.poll_count))


# --------------------------------------------------------------------------------------------
# Settled from Omie's NFS-e list (billing/services/nfse_bulk.py), not from a StatusOS
# --------------------------------------------------------------------------------------------


def invoice_nfse_listed_issued(*, invoice_id: int, info: Any) -> bool:
    """Settles an invoice waiting for its NFS-e from a ListarNFSEs entry (Omie's own answer).

    The invoice is taken only if nobody works on it (its StatusOS may be running right now: then the
    list changes nothing and the poll settles it); it is ISSUED exactly as a StatusOS would leave it.
    """
    now = timezone.now()
    lease = uuid4()
    taken = (Invoice.objects.filter(lease_free(now), pk=invoice_id, status=BillingStatus.ISSUING, next_step=InvoiceStep.POLL_NFSE)
             .update(lease_token=lease, leased_until=now + timedelta(seconds=settings.BILLING_WORK_LEASE_SECONDS)))
    if not taken:
        return False
    step = _Step(Invoice.objects.select_related("order").get(pk=invoice_id), lease)
    status = NfseStatus(state="issued", number=info.number, verification_code=info.verification_code,
                        rps_status=info.rps_status or "004")
    return _issued(step, status).outcome == "issued"
