"""The Bubble writeback outbox (docs/contract.md#bubble-writeback): enqueue in the caller's transaction, deliver, re-send.

Life of a row (see ``BubbleWriteback`` for the invariants):

    enqueue ──► PENDING ──claim──► SENDING ──204──► DONE
                  ▲   ▲               │
                  │   └── transient ──┘  (merged with the newer PENDING row, retried with backoff)
                  │                   └── permanent, or transient after give_up_at ──► DEAD
                  └────────────── writeback_resend (ops) ◄─────────────────────────────┘

Delivery is at-least-once: a worker that dies after Bubble applied a PATCH leaves the row SENDING
until its lease expires, and the same values are sent again. PATCH is idempotent, so that is safe;
what is never allowed is an older value reaching Bubble after a newer one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from common.backoff import backoff_seconds
from common.exceptions import InvalidState
from integrations.bubble.client import get_bubble_client
from integrations.bubble.enqueue import writeback_deliver_enqueue
from integrations.bubble.errors import BubbleError
from integrations.bubble.fields import dumps_exact, wire_value
from integrations.bubble.models import BubbleWriteback
from integrations.bubble.types import THINGS, Thing
from integrations.omie.dryrun import bubble_write_allowed

logger = logging.getLogger(__name__)

Status = BubbleWriteback.Status
_T = TypeVar("_T")

# The merge happens in SQL so that concurrent enqueues for one thing serialise on the PENDING row's
# lock (ON CONFLICT waits for the other transaction) and each sees the values committed before it.
_UPSERT = """
INSERT INTO bubble_bubblewriteback AS w (thing, bubble_id, fields, versions, status, attempts, next_attempt_at, give_up_at,
                           last_error, order_id, created_at, updated_at)
VALUES (%(thing)s, %(bubble_id)s, %(fields)s::jsonb, '{}'::jsonb, 'PENDING', 0, %(now)s, %(give_up_at)s,
        '', %(order_id)s, %(now)s, %(now)s)
ON CONFLICT (thing, bubble_id) WHERE status = 'PENDING'
DO UPDATE SET fields = w.fields || EXCLUDED.fields,
              order_id = COALESCE(EXCLUDED.order_id, w.order_id),
              give_up_at = GREATEST(w.give_up_at, EXCLUDED.give_up_at),
              updated_at = EXCLUDED.updated_at
RETURNING id
"""

# Versions are taken *after* the upsert, while this transaction holds the row's lock, so their order is
# the order in which changes were applied (a sequence value taken before waiting on a lock would not be).
_STAMP = """
UPDATE bubble_bubblewriteback SET versions = versions || (
    SELECT jsonb_object_agg(key, nextval('bubble_writeback_version_seq')) FROM unnest(%(keys)s::text[]) AS key
) WHERE id = %(id)s
"""

# One claimable row: a due PENDING row of a thing with nothing in flight, or a SENDING row whose worker
# lost its lease. SKIP LOCKED lets many workers claim side by side without waiting on each other.
_CLAIM = """
UPDATE bubble_bubblewriteback SET status = 'SENDING', claim_token = %(token)s, locked_until = %(lease_until)s,
                    attempts = attempts + 1, updated_at = %(now)s
WHERE id = (
    SELECT c.id FROM bubble_bubblewriteback c
    WHERE (%(id)s::bigint IS NULL OR c.id = %(id)s)
      AND (%(thing)s::text IS NULL OR (c.thing = %(thing)s AND c.bubble_id = %(bubble_id)s))
      AND ((c.status = 'PENDING' AND c.next_attempt_at <= %(now)s
            AND NOT EXISTS (SELECT 1 FROM bubble_bubblewriteback s
                            WHERE s.thing = c.thing AND s.bubble_id = c.bubble_id AND s.status = 'SENDING'))
           OR (c.status = 'SENDING' AND c.locked_until < %(now)s))
    ORDER BY c.next_attempt_at, c.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


# A thing that keeps changing is followed this many times by one task; the sweep does the rest.
_MAX_CHAIN = 20


@dataclass(frozen=True)
class DeliveryResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0


# Enqueue ---------------------------------------------------------------------------------------


def writeback_enqueue(
    *, thing: Thing, bubble_id: str, fields: dict[str, Any], order_id: int | None = None, dry_run_field: bool = False
) -> int | None:
    """Records changes Bubble must see, in the caller's transaction; delivery starts after commit.

    Returns the id of the PENDING row the changes were merged into (callers on the hot path, like the
    trigger, need nothing more, so the row is not read back).

    Values: str, int, bool, None, Decimal (stored and sent as an exact JSON number with 2 places:
    Bubble number fields want a number, and jsonb keeps ``1234.50`` exact), date (``"2026-11-25"``)
    or aware datetime (ISO 8601). A float is refused: money is Decimal.

    During an Omie dry run (``OMIE_DRY_RUN``) nothing is recorded (returns None), except the one
    ``BUBBLE_DRY_RUN_FIELD`` written by the dry run itself: the orders are re-run for real, and
    written back then, when dry run is switched off.
    """

    if thing not in THINGS:
        raise ValueError(f"thing inválido: {thing!r}")
    if not isinstance(bubble_id, str) or not bubble_id.strip() or len(bubble_id) > 64:
        raise ValueError("bubble_id inválido")
    if not fields:
        raise ValueError("nenhum campo para escrever no Bubble")
    if not bubble_write_allowed(fields, dry_run_field=dry_run_field):
        logger.info("bubble writeback of %s skipped: Omie dry run", thing)
        return None
    if connection.get_autocommit():
        # Outside a transaction the row would commit without the change it reports (or vice versa).
        raise RuntimeError("writeback_enqueue must be called inside the caller's transaction.atomic()")
    stored = {str(key): wire_value(value) for key, value in fields.items()}
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
            {
                "thing": thing,
                "bubble_id": bubble_id,
                "fields": dumps_exact(stored),
                "now": now,
                "give_up_at": now + timedelta(hours=settings.BUBBLE_WRITEBACK_MAX_AGE_HOURS),
                "order_id": order_id,
            },
        )
        row_id = cursor.fetchone()[0]
        cursor.execute(_STAMP, {"keys": list(stored), "id": row_id})
    transaction.on_commit(partial(_kick, row_id))
    return row_id


def _kick(writeback_id: int, countdown: float | None = None) -> None:
    """Publishes a delivery task; a broker outage is logged, never raised: the sweep delivers anyway."""
    try:
        writeback_deliver_enqueue(writeback_id=writeback_id, countdown=countdown)
    except Exception:  # the row is durable in Postgres; a lost message only delays it to the next sweep
        logger.warning("bubble writeback %s: could not publish the delivery task; the sweep will deliver it", writeback_id,
                       exc_info=True)


# Delivery --------------------------------------------------------------------------------------


def writeback_claim(
    *, writeback_id: int | None = None, thing: Thing | None = None, bubble_id: str | None = None
) -> BubbleWriteback | None:
    """Claims one deliverable row (the given one, the given thing's, or the most overdue); None if none."""
    now = timezone.now()
    params = {
        "id": writeback_id,
        "thing": thing if bubble_id is not None else None,
        "bubble_id": bubble_id,
        "token": uuid.uuid4(),
        "now": now,
        "lease_until": now + timedelta(seconds=settings.BUBBLE_WRITEBACK_LEASE_SECONDS),
    }
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM, params)
            row = cursor.fetchone()
    except IntegrityError:
        # The one-SENDING-per-thing index refused a claim that raced another worker's; let it win.
        return None
    return BubbleWriteback.objects.get(pk=row[0]) if row else None


def writeback_send(*, writeback: BubbleWriteback) -> str:
    """Sends a claimed row to Bubble and records the outcome: "done", "retry" or "dead"."""
    try:
        get_bubble_client().patch(writeback.thing, writeback.bubble_id, writeback.fields)  # type: ignore[arg-type]
    except BubbleError as exc:
        if exc.permanent:
            _finish(writeback, status=Status.DEAD, error=exc.message, status_code=exc.status)
            return "dead"
        return _retry_later(writeback, error=exc.message, status_code=exc.status, retry_after=exc.retry_after)
    except Exception as exc:  # a bug must not strand the row in SENDING until its lease expires
        logger.exception("bubble writeback %s: unexpected error while sending", writeback.pk)
        return _retry_later(writeback, error=f"Erro interno ao enviar: {type(exc).__name__}", status_code=None, retry_after=None)
    _finish(writeback, status=Status.DONE, error="", status_code=204)
    return "done"


def writeback_deliver(*, writeback_id: int) -> DeliveryResult:
    """Delivers the row (when claimable) and then whatever piled up for the same thing meanwhile."""
    counts = {"done": 0, "retry": 0, "dead": 0}
    row = writeback_claim(writeback_id=writeback_id)
    while row is not None:
        outcome = writeback_send(writeback=row)
        counts[outcome] += 1
        if outcome == "retry" or sum(counts.values()) >= _MAX_CHAIN:
            break
        row = writeback_claim(thing=row.thing, bubble_id=row.bubble_id)  # type: ignore[arg-type]
    return DeliveryResult(delivered=counts["done"], failed=counts["retry"], dead=counts["dead"])


def writeback_deliver_due(*, limit: int = 500, time_budget: float = 25.0) -> DeliveryResult:
    """The beat sweep: delivers due rows oldest first, within a time budget.

    Stops at the first transient failure: Bubble is throttling or down, and hammering it with the
    rest of the backlog would only spend its rate limit; the next sweep tries again.
    """
    deadline = timezone.now() + timedelta(seconds=time_budget)
    counts = {"done": 0, "retry": 0, "dead": 0}
    for _ in range(limit):
        if timezone.now() >= deadline:
            break
        row = writeback_claim()
        if row is None:
            break
        outcome = writeback_send(writeback=row)
        counts[outcome] += 1
        if outcome == "retry":
            break
    return DeliveryResult(delivered=counts["done"], failed=counts["retry"], dead=counts["dead"])


def _finish(writeback: BubbleWriteback, *, status: str, error: str, status_code: int | None) -> None:
    now = timezone.now()
    updated = BubbleWriteback.objects.filter(pk=writeback.pk, status=Status.SENDING, claim_token=writeback.claim_token).update(
        status=status,
        last_error=error,
        last_status_code=status_code,
        delivered_at=now if status == Status.DONE else None,
        locked_until=None,
        claim_token=None,
        updated_at=now,
    )
    if not updated:
        logger.warning("bubble writeback %s: lease lost before recording %s (another worker re-claimed it)", writeback.pk, status)
    elif status == Status.DEAD:
        logger.warning("bubble writeback %s (%s %s) is DEAD: %s", writeback.pk, writeback.thing, writeback.bubble_id, error)


def _retry_later(writeback: BubbleWriteback, *, error: str, status_code: int | None, retry_after: float | None) -> str:
    outcome, delay = _with_pending_race_retry(
        lambda: _record_retry(writeback, error=error, status_code=status_code, retry_after=retry_after)
    )
    if outcome == "retry" and delay is not None and delay <= settings.BUBBLE_WRITEBACK_KICK_MAX_SECONDS:
        transaction.on_commit(partial(_kick, writeback.pk, delay))
    return outcome


def _record_retry(
    writeback: BubbleWriteback, *, error: str, status_code: int | None, retry_after: float | None
) -> tuple[str, float | None]:
    now = timezone.now()
    row = BubbleWriteback.objects.select_for_update().filter(
        pk=writeback.pk, status=Status.SENDING, claim_token=writeback.claim_token
    ).first()
    if row is None:
        logger.warning("bubble writeback %s: lease lost before recording a retry", writeback.pk)
        return "retry", None
    row.last_status_code, row.locked_until, row.claim_token, row.updated_at = status_code, None, None, now
    if now >= row.give_up_at:
        hours = settings.BUBBLE_WRITEBACK_MAX_AGE_HOURS
        row.status, row.last_error = Status.DEAD, f"Bubble não aceitou a alteração em {hours} h; último erro: {error}"
        row.save()
        logger.warning("bubble writeback %s is DEAD after %s attempts: %s", row.pk, row.attempts, error)
        return "dead", None
    delay = _backoff(row.attempts, retry_after)
    _absorb_newer_pending(row)
    row.status, row.next_attempt_at, row.last_error = Status.PENDING, now + timedelta(seconds=delay), error
    row.save()
    logger.info("bubble writeback %s: attempt %s failed (HTTP %s); next in %.1f s", row.pk, row.attempts, status_code, delay)
    return "retry", delay


def _with_pending_race_retry(fn: Callable[[], _T]) -> _T:
    """Runs ``fn`` in a transaction, again when it loses the one-PENDING-per-thing race.

    Making a row PENDING can collide with another row of the same thing that became PENDING in a
    transaction committed after this statement's snapshot (a concurrent re-send or retry). The next
    attempt sees that row and absorbs it.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return fn()
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _absorb_newer_pending(row: BubbleWriteback) -> None:
    """Folds the thing's PENDING row (newer changes) into ``row``, which is about to become PENDING.

    Both rows are locked, the older first, so this never deadlocks with another absorb; enqueuers only
    ever lock the PENDING row. Its values are newer than every value in ``row``, so they win per key.
    """
    newer = (
        BubbleWriteback.objects.select_for_update()
        .filter(thing=row.thing, bubble_id=row.bubble_id, status=Status.PENDING)
        .exclude(pk=row.pk)
        .first()
    )
    if newer is None:
        return
    row.fields = {**row.fields, **newer.fields}
    row.versions = {**row.versions, **newer.versions}
    row.order_id = newer.order_id or row.order_id
    # A row gives up when its *newest* change has waited BUBBLE_WRITEBACK_MAX_AGE_HOURS.
    row.give_up_at = max(row.give_up_at, newer.give_up_at)
    newer.delete()  # before ``row`` becomes PENDING: one PENDING row per thing


def _backoff(attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to full delay), never sooner than Bubble's Retry-After."""
    delay = backoff_seconds(attempts, base=settings.BUBBLE_WRITEBACK_RETRY_BASE_SECONDS,
                            cap=settings.BUBBLE_WRITEBACK_RETRY_MAX_SECONDS, jitter=(0.5, 1.0))
    return max(delay, retry_after or 0.0)


# Ops -------------------------------------------------------------------------------------------


def writeback_resend(*, writeback: BubbleWriteback) -> None:
    """DEAD → PENDING again (admin/ops "Reenviar"), without ever writing back a value that is stale.

    Keys that a newer row (pending, in flight or delivered) also carries are dropped: re-sending them
    would overwrite a newer value in Bubble. The row gets a fresh ``give_up_at`` window. Raises
    ``InvalidState`` for a row that is not DEAD.
    """
    status = _with_pending_race_retry(lambda: _resend(writeback.pk))
    if status == Status.PENDING:
        transaction.on_commit(partial(_kick, writeback.pk))


def _resend(writeback_id: int) -> str:
    row = BubbleWriteback.objects.select_for_update().get(pk=writeback_id)
    if row.status != Status.DEAD:
        raise InvalidState(f"Só é possível reenviar uma escrita com falha definitiva; esta está \"{row.get_status_display()}\".")
    newest = _newest_versions(row)
    keep = [key for key in row.fields if int(row.versions.get(key, 0)) > newest.get(key, -1)]
    now = timezone.now()
    row.updated_at = now
    if not keep:
        # Everything it carried was superseded by newer writes, sent or on their way: nothing to send.
        row.status, row.delivered_at = Status.DONE, now
        row.last_error = "Reenvio dispensado: valores mais novos já foram ou serão enviados ao Bubble."
        row.save()
        return row.status
    row.fields = {key: row.fields[key] for key in keep}
    row.versions = {key: row.versions[key] for key in keep if key in row.versions}
    row.give_up_at = now + timedelta(hours=settings.BUBBLE_WRITEBACK_MAX_AGE_HOURS)
    _absorb_newer_pending(row)
    row.status, row.last_error, row.attempts, row.next_attempt_at = Status.PENDING, "", 0, now
    row.locked_until = row.claim_token = None
    row.save()
    return row.status


def _newest_versions(row: BubbleWriteback) -> dict[str, int]:
    newest: dict[str, int] = {}
    others = (
        BubbleWriteback.objects.filter(thing=row.thing, bubble_id=row.bubble_id)
        .exclude(pk=row.pk)
        .exclude(status=Status.DEAD)
        .values_list("versions", flat=True)
    )
    for versions in others:
        for key, version in versions.items():
            newest[key] = max(newest.get(key, -1), int(version))
    return newest


def writeback_purge_delivered(*, older_than: datetime | None = None) -> int:
    """Deletes delivered rows past the retention, except for things that still have DEAD rows
    (a re-send compares against them)."""
    cutoff = older_than or timezone.now() - timedelta(days=settings.BUBBLE_WRITEBACK_RETENTION_DAYS)
    dead_sibling = BubbleWriteback.objects.filter(thing=OuterRef("thing"), bubble_id=OuterRef("bubble_id"), status=Status.DEAD)
    deleted, _ = (
        BubbleWriteback.objects.filter(status=Status.DONE, delivered_at__lt=cutoff).exclude(Exists(dead_sibling)).delete()
    )
    return deleted
