"""A heartbeat per periodic task (the metric "when did it last start / succeed / fail") and Sentry Crons.

Connected to Celery's task signals in the worker (config/celery.py), so every beat task reports without
a line in its body: ``task_prerun`` writes the start, ``task_success`` / ``task_failure`` the end, in one
Redis hash per event kind (field = task name). A task run by hand counts as a run too: it did run.

Sentry Crons (only with ``SENTRY_DSN``): an ``in_progress`` check-in on start and ``ok`` / ``error`` on
finish, with the schedule sent along (``monitor_config``) so Sentry creates the monitor by itself and
reports a missed or overrunning run. Tasks that run more often than every
``SENTRY_CRONS_MIN_INTERVAL_SECONDS`` (the 30 s dispatcher, the 1 min heartbeat) are left out: their
absence is what the Prometheus alerts watch, and thousands of check-ins a day would only cost quota.
"""

from __future__ import annotations

import logging
import re
import time
from functools import lru_cache

import redis
from django.apps import apps
from django.conf import settings
from sentry_sdk.crons import capture_checkin

from common.periodic import SCHEDULE, Periodic

logger = logging.getLogger(__name__)

KEY_PREFIX = "blu:metrics:periodic:"
EVENTS = ("start", "success", "failure")
_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _clients[url]


@lru_cache(maxsize=1)
def periodic_entries() -> dict[str, Periodic]:
    """Every periodic task declared by the apps, by task name (imports each app's ``periodic`` module)."""

    for config in apps.get_app_configs():
        try:
            __import__(f"{config.name}.periodic")
        except ModuleNotFoundError:
            continue
    return {entry.task: entry for entry in SCHEDULE}


def monitor_slug(task_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", task_name.lower()).strip("-")[:50]


def monitor_config(entry: Periodic) -> dict[str, object]:
    if entry.every_seconds:
        return {"schedule": {"type": "interval", "value": max(1, entry.every_seconds // 60), "unit": "minute"},
                "timezone": "America/Sao_Paulo", "checkin_margin": 5, "max_runtime": 30}
    c = entry.crontab or {}
    cron = " ".join(c.get(k, "*") for k in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week"))
    return {"schedule": {"type": "crontab", "value": cron}, "timezone": "America/Sao_Paulo", "checkin_margin": 10,
            "max_runtime": 120}


def record_run_event(task_name: str, event: str, when: float | None = None) -> None:
    try:
        _redis().hset(KEY_PREFIX + event, task_name, str(when or time.time()))
    except redis.RedisError:
        logger.warning("metrics: could not record %s of %s", event, task_name)


def read_run_events(client: redis.Redis) -> dict[str, dict[str, float]]:
    """``{event: {task name: unix time}}`` for the three events."""
    pipe = client.pipeline(transaction=False)
    for event in EVENTS:
        pipe.hgetall(KEY_PREFIX + event)
    return {event: {k.decode(): float(v) for k, v in raw.items()} for event, raw in zip(EVENTS, pipe.execute(), strict=True)}


def _crons_wanted(entry: Periodic) -> bool:
    if not getattr(settings, "SENTRY_DSN", ""):
        return False
    return not entry.every_seconds or entry.every_seconds >= settings.SENTRY_CRONS_MIN_INTERVAL_SECONDS


def _checkin(entry: Periodic, status: str, check_in_id: str | None = None, duration: float | None = None) -> str | None:
    try:
        return capture_checkin(monitor_slug=monitor_slug(entry.task), check_in_id=check_in_id, status=status,
                               duration=duration, monitor_config=monitor_config(entry))
    except Exception:  # noqa: BLE001 - monitoring must never fail the task
        logger.warning("sentry crons: check-in failed for %s", entry.task)
        return None


# Per worker process: the running task's check-in id and start (prefork runs one task at a time per process).
_running: dict[str, tuple[str | None, float]] = {}


def on_task_start(task_name: str, task_id: str) -> None:
    entry = periodic_entries().get(task_name)
    if entry is None:
        return
    record_run_event(task_name, "start")
    check_in = _checkin(entry, "in_progress") if _crons_wanted(entry) else None
    _running[task_id] = (check_in, time.monotonic())


def on_task_end(task_name: str, task_id: str, ok: bool) -> None:
    entry = periodic_entries().get(task_name)
    if entry is None:
        return
    record_run_event(task_name, "success" if ok else "failure")
    check_in, started = _running.pop(task_id, (None, time.monotonic()))
    if _crons_wanted(entry):
        _checkin(entry, "ok" if ok else "error", check_in_id=check_in, duration=time.monotonic() - started)


def connect(signals: object) -> None:
    """Connects the handlers to ``celery.signals`` (called once, by config/celery.py)."""

    def _pre(task_id: str = "", task: object = None, **_: object) -> None:
        on_task_start(getattr(task, "name", ""), task_id)

    def _success(sender: object = None, **_: object) -> None:
        request = getattr(sender, "request", None)
        on_task_end(getattr(sender, "name", ""), getattr(request, "id", "") or "", ok=True)

    def _failure(sender: object = None, task_id: str = "", **_: object) -> None:
        on_task_end(getattr(sender, "name", ""), task_id, ok=False)

    signals.task_prerun.connect(_pre, weak=False)  # type: ignore[attr-defined]
    signals.task_success.connect(_success, weak=False)  # type: ignore[attr-defined]
    signals.task_failure.connect(_failure, weak=False)  # type: ignore[attr-defined]
