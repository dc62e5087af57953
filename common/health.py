"""Liveness and readiness: what a load balancer and an on-call engineer ask first.

Readiness includes "workers": some worker received its consumption probe through the broker within
WORKER_CONSUMING_MAX_AGE_SECONDS (common/worker_liveness.py), i.e. tasks are actually being taken
from the queue, not merely that a worker process exists.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.worker_liveness import consuming_workers

BEAT_HEARTBEAT_KEY = "blu:beat:heartbeat"
_PING_TIMEOUT = 2.0


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=_PING_TIMEOUT, socket_timeout=_PING_TIMEOUT)


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}


def _check_redis() -> dict[str, Any]:
    _redis(settings.REDIS_URL).ping()
    return {"status": "ok"}


def _check_broker() -> dict[str, Any]:
    _redis(settings.CELERY_BROKER_URL).ping()
    return {"status": "ok"}


def _check_beat() -> dict[str, Any]:
    raw = _redis(settings.REDIS_URL).get(BEAT_HEARTBEAT_KEY)
    if raw is None:
        return {"status": "error", "message": "beat nunca registrou batimento"}
    age = max(0.0, time.time() - float(raw))
    limit = settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS
    status = "ok" if age <= limit else "error"
    result: dict[str, Any] = {"status": status, "age_seconds": round(age, 1)}
    if status != "ok":
        result["message"] = f"último batimento há {int(age)} s (limite {limit} s)"
    return result


def _check_workers() -> dict[str, Any]:
    """At least one worker proved, through the broker, that it is consuming (common/worker_liveness.py)."""

    limit = settings.WORKER_CONSUMING_MAX_AGE_SECONDS
    consuming, freshest = consuming_workers(_redis(settings.REDIS_URL), limit)
    if consuming:
        return {"status": "ok", "consuming": consuming, "age_seconds": round(freshest or 0.0, 1)}
    if freshest is None:
        return {"status": "error", "message": "nenhum worker provou consumo da fila ainda"}
    return {"status": "error", "age_seconds": round(freshest, 1),
            "message": f"nenhum worker consumindo: última prova há {int(freshest)} s (limite {int(limit)} s)"}


CHECKS = {"database": _check_database, "redis": _check_redis, "broker": _check_broker, "beat": _check_beat,
          "workers": _check_workers}


@never_cache
@require_GET
def live(_request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(_request: HttpRequest) -> JsonResponse:
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
            results[name] = {"status": "error", "message": type(exc).__name__}
    healthy = all(r["status"] == "ok" for r in results.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)


def record_beat_heartbeat() -> None:
    _redis(settings.REDIS_URL).set(BEAT_HEARTBEAT_KEY, str(time.time()), ex=24 * 3600)
