"""Sync state transitions (docs/contract.md#sync): failing, retrying later, completing.

Each transition runs in one transaction under the order's row lock, re-checks that the order is
still PENDING, writes the Bubble outbox row and the action log entry in that same transaction.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.backoff import backoff_seconds
from common.versioning import version_bump
from integrations.http import IntegrationError, NotNow
from orders.models import Order
from orders.services.action_log import action_log_record
from orders.services.writeback import order_writeback_sync_status
from orders.statuses import ActionOutcome, SyncStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOutcome:
    """What the step's task does next: stop, go on along the chain (``sync_chain``), or run again later."""

    go_on: bool = False
    retry_in: float | None = None

    @classmethod
    def done(cls) -> SyncOutcome:
        """Stop: the sync ended (SYNCED, FAILED), or another worker carries it on."""
        return cls()

    @classmethod
    def next(cls) -> SyncOutcome:
        """This step's work is stored: the chain decides what runs next."""
        return cls(go_on=True)


def locked_pending(order_id: int) -> Order | None:
    """The order under its row lock, or None when it is no longer PENDING (someone finished it)."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    return order if order and order.sync_status == SyncStatus.PENDING else None


def order_sync_fail(
    *, order_id: int, message: str, actor: str, action: str, clear_os_request: bool = False, fields: dict[str, Any] | None = None
) -> None:
    """PENDING → FAILED with a message ops can act on. Never retried automatically. ``fields``: what was
    read from Bubble before the failure (the customer's name, the document…), stored so the failed
    order says whose it is."""
    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None:
            return
        order.sync_status = SyncStatus.FAILED
        order.last_error = message
        order.next_attempt_at = None
        update = ["sync_status", "last_error", "next_attempt_at", "version", "updated_at"]
        for name, value in (fields or {}).items():
            if value not in (None, ""):
                setattr(order, name, value)
                update.append(name)
        if clear_os_request:
            # Omie refused the OS: nothing was created, the next try needs no ConsultarOS first.
            order.omie_os_requested_at = None
            update.append("omie_os_requested_at")
        version_bump(order)
        order.save(update_fields=update)
        order_writeback_sync_status(order=order)
        action_log_record(actor=actor, action=action, outcome=ActionOutcome.ERROR, order=order, message=message)
    logger.info("order %s sync failed at %s", order_id, action)


def _jitter(seconds: float) -> float:
    # Spreads the retries of many orders that hit the same wall (a pause, a ban) at the same moment;
    # proportional, so a sub-second "lease busy, retry at T" stays sub-second.
    return random.uniform(0, min(5.0, seconds * 0.1))


# "Every lease of the method is held" / "no token yet": a wait for a turn, not a pause.
QUEUE_REASONS = frozenset({"concurrency", "rate"})
# Waiting in an Omie write's line (a place given by ``omie_line_place``): the throttle timed the retry.
LINE_REASON = "turn"


def _queue_wait(order: Order) -> float:
    """How long to wait for a turn at Omie: about as long as the PENDING orders ahead of it need.

    Serves a backlog oldest first with few polls, where the throttle's short "retry at T" would have
    every waiting order poll twice a second, in random order.
    """
    if order.source_fetched_at is None:
        return 0.0
    ahead = Order.objects.filter(
        sync_status=SyncStatus.PENDING, source_fetched_at__lt=order.source_fetched_at
    ).count()
    wait = ahead * settings.ORDERS_OMIE_TURN_SECONDS * random.uniform(0.7, 1.0)
    return min(wait, settings.ORDERS_OMIE_QUEUE_WAIT_MAX_SECONDS)


def _not_now_countdown(order: Order, exc: IntegrationError) -> float:
    if getattr(exc, "reason", "") == LINE_REASON:
        return exc.retry_after  # timed by the order's place in line: no jitter, that would reorder it
    countdown = exc.retry_after + _jitter(exc.retry_after or 0.0)
    if getattr(exc, "reason", "") in QUEUE_REASONS:
        countdown = max(countdown, _queue_wait(order))
    return countdown


def _backoff(attempt: int) -> float:
    return backoff_seconds(attempt, base=settings.ORDERS_SYNC_BACKOFF_BASE_SECONDS,
                           cap=settings.ORDERS_SYNC_BACKOFF_MAX_SECONDS, jitter=(0.5, 1.0))


def _expected_retry(*, order: Order, exc: IntegrationError, actor: str, action: str, what: str, now: datetime) -> SyncOutcome:
    """An expected retry that keeps its own count (BrasilAPI's false 404s): no attempt spent, logged
    once with that one counter, as a retry, not an error."""
    countdown = (exc.retry_after or 0.0) + _jitter(exc.retry_after or 0.0)
    countdown = min(countdown, float(settings.CELERY_MAX_COUNTDOWN_SECONDS))
    order.next_attempt_at = now + timedelta(seconds=countdown)
    order.save(update_fields=["next_attempt_at", "updated_at"])
    action_log_record(actor=actor, action=action, outcome=ActionOutcome.RETRY, order=order, message=f"{what}: {exc.message}")
    return SyncOutcome(retry_in=countdown)


def _retry_at(*, order: Order, exc: IntegrationError, actor: str, action: str, what: str, now: datetime, countdown: float,
              clear_os_request: bool) -> SyncOutcome:
    """Schedules the next try (under the caller's row lock); a failure of the call itself is logged."""
    countdown = min(countdown, float(settings.CELERY_MAX_COUNTDOWN_SECONDS))
    order.next_attempt_at = now + timedelta(seconds=countdown)
    update = ["sync_attempts", "next_attempt_at", "updated_at"]
    if clear_os_request:
        order.omie_os_requested_at = None
        update.append("omie_os_requested_at")
    order.save(update_fields=update)
    if not isinstance(exc, NotNow):
        action_log_record(
            actor=actor, action=action, outcome=ActionOutcome.ERROR, order=order,
            message=(
                f"{what}: falha temporária ({exc.message}); tentativa {order.sync_attempts} de "
                f"{settings.ORDERS_SYNC_MAX_ATTEMPTS}, nova tentativa em {countdown:.0f} s."
            ),
        )
    return SyncOutcome(retry_in=countdown)


def order_sync_error(
    *, order_id: int, exc: IntegrationError, actor: str, action: str, what: str, clear_os_request: bool = False
) -> SyncOutcome:
    """Classifies an integration failure: FAILED (permanent), or a retry at the time it allows.

    ``what`` names the call in Portuguese for the messages ops read ("Omie (IncluirOS)").
    ``clear_os_request``: IncluirOS certainly did not create an OS (Omie refused it, or the throttle
    never sent it), so the next try needs no ConsultarOS first — a "not found" there would spend
    Omie's error budget for nothing.
    """
    if exc.permanent:
        order_sync_fail(
            order_id=order_id, message=f"{what}: {exc.message}", actor=actor, action=action, clear_os_request=clear_os_request
        )
        return SyncOutcome.done()

    now = timezone.now()
    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None:
            return SyncOutcome.done()
        started = order.sync_started_at or order.created_at
        if now - started > timedelta(seconds=settings.ORDERS_SYNC_GIVE_UP_SECONDS):
            minutes = settings.ORDERS_SYNC_GIVE_UP_SECONDS // 60
            give_up = f"{what}: sincronização não concluída em {minutes} min ({exc.message}). Use 'reprocessar'."
        elif getattr(exc, "expected_retry", False):
            return _expected_retry(order=order, exc=exc, actor=actor, action=action, what=what, now=now)
        elif isinstance(exc, NotNow):
            # The throttle said "not before T": not a failure of the call, no attempt spent.
            countdown = _not_now_countdown(order, exc)
            give_up = ""
        else:
            order.sync_attempts += 1
            if order.sync_attempts >= settings.ORDERS_SYNC_MAX_ATTEMPTS:
                give_up = (
                    f"{what}: falha temporária persistente após {order.sync_attempts} tentativas ({exc.message}). "
                    "Verifique o serviço e use 'reprocessar'."
                )
            else:
                base = _backoff(order.sync_attempts)
                countdown = max(base, (exc.retry_after or 0.0) + _jitter(exc.retry_after or 0.0))
                give_up = ""
        if not give_up:
            return _retry_at(order=order, exc=exc, actor=actor, action=action, what=what, now=now, countdown=countdown,
                             clear_os_request=clear_os_request)
        order.save(update_fields=["sync_attempts", "updated_at"])
    order_sync_fail(order_id=order_id, message=give_up, actor=actor, action=action)
    return SyncOutcome.done()

