"""Omie's gates in front of every call (docs/omie.md#evidence), in the order the fake applies
them: the misuse ban (425, each call during it extends it), the per-method and per-key rate
windows (429), one write at a time per method (Client-1880), the same id again within 60 s
(REDUNDANT). Admission runs under a PostgreSQL advisory lock per app key, so concurrent requests in
any number of processes see each other exactly.

After the answer: every HTTP 500 answer but "no records" (Client-5113) is an error; the ``ban_after_errors``-th error of a method
within the error window (counted since the last ban ended) bans the method.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sandbox.fake_omie.catalog import WRITE_CALLS
from sandbox.fake_omie.models import FakeOmieBan, FakeOmieCall, FakeOmieConfig

RATE_WINDOW_SECONDS = 60
STALE_IN_FLIGHT_SECONDS = 120  # a request whose worker died stops counting as in flight
# A list with nothing to show answers this fault (HTTP 500). Whether Omie counts it toward the misuse
# ban is not known; the fake does not, or a reconciliation of a quiet day would ban the account.
NO_RECORDS = "SOAP-ENV:Client-5113"


def fault(code: str, message: str) -> dict[str, str]:
    return {"faultstring": f"ERROR: {message}", "faultcode": code}


def key_digest(app_key: str) -> str:
    return hashlib.sha256(app_key.encode()).hexdigest()[:16]


@dataclass
class Admission:
    row: FakeOmieCall
    answer: tuple[int, dict[str, Any]] | None  # set when a gate answered instead of the method


def admit(*, config: FakeOmieConfig, app_key: str, call: str, endpoint: str, ident: str, param: Any) -> Admission:
    with transaction.atomic():
        _lock(app_key)
        now = timezone.now()
        answer = _gate(config, app_key, call, ident, now)
        row = FakeOmieCall.objects.create(
            app_key=app_key, call=call, endpoint=endpoint, ident=ident, param=param, received_at=now,
            processed=answer is None,
        )
    if answer is not None:
        record_answer(config=config, row=row, status=answer[0], body=answer[1])
    return Admission(row=row, answer=answer)


def _gate(config: FakeOmieConfig, app_key: str, call: str, ident: str, now: Any) -> tuple[int, dict[str, Any]] | None:
    calls = FakeOmieCall.objects.filter(app_key=app_key)
    if config.ban_on:
        ban = FakeOmieBan.objects.filter(app_key=app_key, call=call, until__gt=now).first()
        if ban is not None:
            ban.until = max(ban.until, now + timedelta(seconds=config.scaled(config.ban_seconds)))
            ban.save(update_fields=["until"])
            seconds = math.ceil((ban.until - now).total_seconds())
            return 425, fault("MISUSE_API_PROCESS", f"API bloqueada por consumo indevido. Tente novamente em {seconds} segundos.")
    if config.rate_limits_on:
        since = now - timedelta(seconds=config.scaled(RATE_WINDOW_SECONDS))
        if (calls.filter(call=call, received_at__gte=since).count() >= config.rate_limit_per_method
                or calls.filter(received_at__gte=since).count() >= config.rate_limit_per_key):
            return 429, fault("SOAP-ENV:Client-429", "Too many Requests")
    if config.concurrency_on:
        limit = config.write_concurrency if call in WRITE_CALLS else config.read_concurrency
        running = calls.filter(call=call, processed=True, finished_at__isnull=True,
                               received_at__gte=now - timedelta(seconds=STALE_IN_FLIGHT_SECONDS)).count()
        if running >= limit:
            return 500, fault("SOAP-ENV:Client-1880", "Já existe uma requisição desse método sendo executada e você pode "
                                                      "tentar novamente em alguns instantes.")
    if config.redundant_on and ident:
        window = config.scaled(config.redundant_seconds)
        first = (calls.filter(call=call, ident=ident, processed=True, received_at__gte=now - timedelta(seconds=window))
                 .order_by("received_at").first())
        if first is not None:
            seconds = max(1, math.ceil(window - (now - first.received_at).total_seconds()))
            return 500, fault("SOAP-ENV:Client-6", f"Consumo redundante detectado. Aguarde {seconds} segundos para tentar "
                                                   "novamente (REDUNDANT)")
    return None


def record_answer(*, config: FakeOmieConfig, row: FakeOmieCall, status: int, body: Any) -> None:
    row.http_status = status
    if isinstance(body, dict):
        row.fault_code = str(body.get("faultcode", ""))[:80]
        row.fault_string = str(body.get("faultstring", ""))
    row.finished_at = timezone.now()
    row.save(update_fields=["http_status", "fault_code", "fault_string", "finished_at"])
    if status == 500 and config.ban_on and row.fault_code != NO_RECORDS:
        _count_error(config, row)


def _count_error(config: FakeOmieConfig, row: FakeOmieCall) -> None:
    with transaction.atomic():
        _lock(row.app_key)
        now = timezone.now()
        since = now - timedelta(seconds=config.scaled(config.error_window_seconds))
        last_ban = FakeOmieBan.objects.filter(app_key=row.app_key, call=row.call).first()
        if last_ban is not None:
            if last_ban.until > now:
                return  # already banned
            since = max(since, last_ban.until)
        errors = FakeOmieCall.objects.filter(app_key=row.app_key, call=row.call, http_status=500, received_at__gte=since).count()
        if errors >= config.ban_after_errors:
            until = now + timedelta(seconds=config.scaled(config.ban_seconds))
            FakeOmieBan.objects.update_or_create(app_key=row.app_key, call=row.call, defaults={"until": until, "started_at": now})


def _lock(app_key: str) -> None:
    lock_id = int.from_bytes(hashlib.blake2b(f"fake-omie:{app_key}".encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
