"""Idempotency keys for every POST under /v1/ (docs/contract.md#http-api), stored in PostgreSQL.

The first request with a key reserves it (IN_FLIGHT, committed before the view runs, so a
concurrent duplicate sees it); a 2xx answer is stored and replayed for IDEMPOTENCY_TTL_HOURS;
any other answer releases the key. Keys are scoped by caller, so two callers never share one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.api.models import IdempotencyRecord
from common.exceptions import IdempotencyKeyReused, RequestInProgress

Status = IdempotencyRecord.Status


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """sha256 of method, path and body; a JSON body is canonicalised (key order, spacing)."""
    try:
        canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", canonical):
        digest.update(part)
    return digest.hexdigest()


def idempotency_begin(*, caller: str, key: str, fingerprint: str, method: str, path: str) -> StoredResponse | None:
    """Reserves the key, or answers for it.

    Returns the stored response to replay, or None when the caller must run the request (and then
    call ``idempotency_complete`` or ``idempotency_release``). Raises RequestInProgress (409) while
    another request holds the key and IdempotencyKeyReused (422) for the same key on another request.
    """
    now = timezone.now()
    fresh = {
        "fingerprint": fingerprint,
        "method": method,
        "path": path[:300],
        "status": Status.IN_FLIGHT,
        "locked_until": now + timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS),
        "response_status": None,
        "response_body": None,
        "created_at": now,
        "completed_at": None,
    }
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(caller=caller, key=key, **fresh)
            return None
    except IntegrityError:
        pass  # the key exists: decide under its row lock

    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().filter(caller=caller, key=key).first()
        if record is None:  # released between our insert and this read: take it
            IdempotencyRecord.objects.create(caller=caller, key=key, **fresh)
            return None
        expired = record.created_at < now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        abandoned = record.status == Status.IN_FLIGHT and (record.locked_until is None or record.locked_until < now)
        if expired or (abandoned and record.fingerprint == fingerprint):
            for field, value in fresh.items():
                setattr(record, field, value)
            record.save()
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "Esta Idempotency-Key já foi usada com outra requisição (corpo ou rota diferentes). Use uma chave nova.",
                details={"idempotency_key": key},
            )
        if record.status == Status.IN_FLIGHT:
            raise RequestInProgress(
                "Uma requisição com esta Idempotency-Key ainda está em andamento; tente novamente em instantes.",
                details={"idempotency_key": key},
            )
        return StoredResponse(status=record.response_status or 200, body=record.response_body)


def idempotency_complete(*, caller: str, key: str, status: int, body: Any) -> None:
    IdempotencyRecord.objects.filter(caller=caller, key=key, status=Status.IN_FLIGHT).update(
        status=Status.DONE, response_status=status, response_body=body, completed_at=timezone.now(), locked_until=None
    )


def idempotency_release(*, caller: str, key: str) -> None:
    """Forgets a reservation whose request did not succeed: nothing was stored as processed."""
    IdempotencyRecord.objects.filter(caller=caller, key=key, status=Status.IN_FLIGHT).delete()


def idempotency_prune(*, older_than: timedelta | None = None) -> int:
    """Deletes keys past their replay window; returns how many."""
    age = older_than or timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted
