"""Container health checks (docker-compose.yml `healthcheck:`), light enough to run every few seconds.

    python docker/healthcheck.py web|worker|beat|flower

- web: GET /health/live on gunicorn, with a Host Django accepts (liveness only: readiness depends on
  beat and workers, which start after web, so using it here would deadlock the start order).
- worker: this container's own node (worker@<hostname>) answers a Celery ping over the broker.
- beat: the beat heartbeat in Redis is fresh (beat → broker → a worker → Redis all work).
- flower: Flower's /healthcheck (no auth by design).
None of them loads Django; exit 0 = healthy, 1 = unhealthy with the reason on stdout.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TIMEOUT = 5.0


def _get(url: str, host: str | None = None) -> str:
    # Only ever http://127.0.0.1 URLs built here.
    request = urllib.request.Request(url, headers={"Host": host} if host else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return response.read().decode()


def _allowed_host() -> str:
    """The first DJANGO_ALLOWED_HOSTS entry in a form Django accepts as a Host header."""
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0] if hosts else "localhost"
    if host == "*":
        return "localhost"
    return host.lstrip(".")


def check_web() -> str:
    port = os.environ.get("WEB_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    return _get(f"http://127.0.0.1:{port}/health/live", host=_allowed_host())


def check_worker() -> str:
    from celery import Celery

    broker = os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]
    node = f"worker@{os.environ.get('CELERY_WORKER_HOSTNAME') or socket.gethostname()}"
    app = Celery(broker=broker)
    replies = app.control.ping(destination=[node], timeout=TIMEOUT - 1)
    if not replies:
        raise RuntimeError(f"{node} did not answer the ping")
    return f"{node}: pong"


def check_beat() -> str:
    import redis

    from common.health import BEAT_HEARTBEAT_KEY

    raw = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3, socket_timeout=3).get(BEAT_HEARTBEAT_KEY)
    if raw is None:
        raise RuntimeError("no beat heartbeat yet")
    age = time.time() - float(raw)
    limit = float(os.environ.get("BEAT_HEARTBEAT_MAX_AGE_SECONDS", "180"))
    if age > limit:
        raise RuntimeError(f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s)")
    return f"heartbeat {age:.0f} s ago"


def check_flower() -> str:
    prefix = os.environ.get("FLOWER_URL_PREFIX", "flower").strip("/")
    port = os.environ.get("FLOWER_PORT", "5555")
    return _get(f"http://127.0.0.1:{port}/{prefix + '/' if prefix else ''}healthcheck")


CHECKS = {"web": check_web, "worker": check_worker, "beat": check_beat, "flower": check_flower}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: healthcheck.py {'|'.join(CHECKS)}")
        return 2
    try:
        print(CHECKS[argv[0]]().strip()[:200])
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", reported by type
        print(f"unhealthy: {type(exc).__name__}: {exc}"[:300])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
