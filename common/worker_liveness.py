"""Proof that a Celery worker is *consuming*, not just alive, and its exit when it is not.

A live process proves little: the known Redis-transport failures leave a worker that answers
``ping`` but never takes another task from the queue (docs/reliability.md). So every worker checks
the same path real tasks take:

- every ``WORKER_PROBE_INTERVAL_SECONDS`` a thread in the worker's main process publishes a
  ``common.tasks.worker_probe`` message to the worker's own queue ``blu.probe.<node name>``
  (through the broker, like any task);
- the worker's task consumer takes it from Redis like any task; the task's strategy
  (:func:`probe_strategy`) records the receipt time and acknowledges it in the consumer itself, so a
  pool busy with long tasks does not delay the proof;
- the receipt time is written to a file (the container health check reads it) and to Redis
  (``blu:worker:consuming:<node name>``, which ``/health/ready`` reads);
- when a probe was *published* (so the broker is up) and none has been received for
  ``WORKER_PROBE_STALE_SECONDS`` while the consumer had room for a message (or
  ``WORKER_PROBE_BUSY_STALE_SECONDS`` in any case), the worker has stopped consuming: it logs it,
  stops (warm shutdown, exit code 70) and its supervisor starts a fresh one — docker compose's
  ``restart: unless-stopped``, supervisord under ``make run``. If the main loop does not stop within
  ``WORKER_WATCHDOG_EXIT_GRACE_SECONDS`` the process is ended outright.

While the broker is unreachable nothing is published, so an outage alone never makes a worker exit:
it keeps reconnecting (Celery's own retry) and resumes; readiness says "not consuming" meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
from celery import bootsteps
from celery.worker import state
from django.conf import settings

logger = logging.getLogger(__name__)

PROBE_TASK = "common.tasks.worker_probe"
KEY_PREFIX = "blu:worker:consuming:"
EXIT_CODE = 70  # EX_SOFTWARE: "stopped consuming", distinct from a crash (1) and a clean stop (0)


def _setting(name: str, default: float) -> float:
    try:
        return float(getattr(settings, name, default))
    except Exception:  # noqa: BLE001 - outside Django (the container health check) the default applies
        return float(os.environ.get(name, default))


def probe_queue_name(hostname: str) -> str:
    return f"blu.probe.{hostname}"


def liveness_file(hostname: str, directory: str | None = None) -> Path:
    directory = directory or os.environ.get("WORKER_LIVENESS_DIR") or tempfile.gettempdir()
    return Path(directory) / f"blu-worker-{re.sub(r'[^A-Za-z0-9_.-]', '_', hostname)}.json"


def record_consumption(client: Any, hostname: str, when: float) -> None:
    """The Redis record /health/ready reads: the node's last probe receipt (kept a day after it stops)."""
    client.set(KEY_PREFIX + hostname, str(when), ex=24 * 3600)


def consuming_workers(client: Any, max_age: float, now: float | None = None) -> tuple[int, float | None]:
    """(workers whose last probe receipt is at most max_age old, age of the freshest receipt or None)."""
    now = time.time() if now is None else now
    keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=200))
    ages = [max(0.0, now - float(v)) for v in (client.mget(keys) if keys else []) if v is not None]
    return sum(1 for age in ages if age <= max_age), (min(ages) if ages else None)


def read_liveness(hostname: str) -> dict[str, Any] | None:
    try:
        return json.loads(liveness_file(hostname).read_text())
    except (OSError, ValueError):
        return None


class _Watchdog:
    """One per worker process; created by the consumer bootstep, fed by the probe strategy."""

    instance: _Watchdog | None = None

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.hostname: str = consumer.hostname
        self.queue = probe_queue_name(self.hostname)
        self.interval = _setting("WORKER_PROBE_INTERVAL_SECONDS", 10)
        self.stale = _setting("WORKER_PROBE_STALE_SECONDS", 60)
        self.busy_stale = _setting("WORKER_PROBE_BUSY_STALE_SECONDS", 240)
        self.exit_grace = _setting("WORKER_WATCHDOG_EXIT_GRACE_SECONDS", 30)
        self.started = time.time()
        self.last_received: float | None = None
        self.pending_since: float | None = None  # first successful publish not yet followed by a receipt
        self.fired = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="blu-consumption-watchdog", daemon=True)
        self._redis = None

    # called in the consumer (event loop thread) -------------------------------------------------
    def received(self) -> None:
        self.last_received = time.time()
        self._wake.set()

    # the watchdog thread ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        """A probe at once (a fresh worker proves itself within a second), then every interval; a receipt
        wakes the thread to record it straight away."""
        next_tick = time.time()
        while not self._stop.is_set():
            if time.time() >= next_tick:
                next_tick = time.time() + self.interval
                try:
                    self.tick()
                except Exception:  # the watchdog must never die of a transient error
                    logger.exception("watchdog de consumo: erro inesperado")
            elif self._wake.is_set():
                self._wake.clear()
                self._write()
            self._wake.wait(max(0.0, next_tick - time.time()))

    def _publish(self) -> bool:
        try:
            self.consumer.app.send_task(PROBE_TASK, args=[self.hostname, time.time()], queue=self.queue,
                                        routing_key=self.queue, retry=False, ignore_result=True)
            return True
        except Exception as exc:  # noqa: BLE001 - broker down: nothing proves or disproves consumption
            logger.info("watchdog de consumo: sonda não publicada (%s)", type(exc).__name__)
            return False

    def _can_consume(self) -> bool:
        try:
            return bool(self.consumer.task_consumer.channel.qos.can_consume())
        except Exception:  # noqa: BLE001 - reconnecting: no consumer channel, nothing is "full"
            return True

    def tick(self) -> None:
        now = time.time()
        if self.pending_since is not None and self.last_received is not None and self.last_received >= self.pending_since:
            self.pending_since = None
        published = self._publish()
        if published and self.pending_since is None:
            self.pending_since = now
        waited = now - self.pending_since if self.pending_since is not None else 0.0
        limit = self.stale if self._can_consume() else self.busy_stale
        self._write()
        if waited > limit and not self.fired:
            self.fire(waited)

    def _write(self) -> None:
        record = {"hostname": self.hostname, "pid": os.getpid(), "written_at": time.time(),
                  "last_received": self.last_received, "started": self.started, "stuck": self.fired}
        path = liveness_file(self.hostname)
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record))
            tmp.replace(path)
        except OSError:
            logger.warning("watchdog de consumo: não consegui gravar %s", path)
        if self.last_received is None:
            return
        try:
            if self._redis is None:
                self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            record_consumption(self._redis, self.hostname, self.last_received)
        except Exception as exc:  # noqa: BLE001 - Redis down: readiness says so through its own checks
            logger.info("watchdog de consumo: registro no Redis falhou (%s)", type(exc).__name__)

    def fire(self, waited: float) -> None:
        """Stop this worker so that its supervisor starts a fresh one."""
        self.fired = True
        self._write()
        logger.critical(
            "worker %s parou de consumir: sonda publicada há %.0f s e não recebida; encerrando "
            "(código %s) para o supervisor reiniciar", self.hostname, waited, EXIT_CODE)

        state.should_stop = EXIT_CODE  # the event loop raises WorkerShutdown(70) at its next turn

        def hard_exit() -> None:
            logger.critical("worker %s não parou em %.0f s; saída forçada", self.hostname, self.exit_grace)
            try:
                os.kill(os.getpid(), signal.SIGQUIT)  # Celery's cold shutdown: ends the pool children too
                time.sleep(10)
            finally:
                os._exit(EXIT_CODE)

        timer = threading.Timer(self.exit_grace, hard_exit)
        timer.daemon = True
        timer.start()


def probe_strategy(task: Any, app: Any, consumer: Any, **_kwargs: Any) -> Any:
    """The probe task's strategy: taken from the queue by the consumer, recorded, acknowledged; never run."""
    connection_errors = consumer.connection_errors

    def task_message_handler(message: Any, body: Any, ack: Any, reject: Any, callbacks: Any, **_kw: Any) -> None:
        watchdog = _Watchdog.instance
        if watchdog is not None:
            watchdog.received()
        ack(logger, connection_errors)

    return task_message_handler


class ConsumptionWatchdog(bootsteps.StartStopStep):
    """Consumer bootstep: the worker consumes its probe queue and runs the watchdog thread."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.enabled = os.environ.get("WORKER_WATCHDOG", "true").lower() not in {"0", "false", "no"}

    def start(self, c: Any) -> None:
        queue = probe_queue_name(c.hostname)
        c.add_task_queue(queue, exchange=queue, routing_key=queue)
        if _Watchdog.instance is None:
            _Watchdog.instance = _Watchdog(c)
            _Watchdog.instance.start()
        else:
            _Watchdog.instance.consumer = c

    def shutdown(self, c: Any) -> None:
        if _Watchdog.instance is not None:
            _Watchdog.instance.stop()
