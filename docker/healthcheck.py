"""Container health checks (docker-compose.yml `healthcheck:`), light enough to run every few seconds.

    python docker/healthcheck.py web|worker|beat|flower

- web: GET /health/live on gunicorn, with a Host Django accepts (liveness only: readiness depends on
  beat and workers, which start after web, so using it here would deadlock the start order).
- worker: this container's own node (worker@<hostname>) received its consumption probe through the
  broker within WORKER_CONSUMING_MAX_AGE_SECONDS (the record its watchdog writes, common/worker_liveness.py):
  consuming, not merely alive. The worker exits by itself when it stops consuming (and
  `restart: unless-stopped` starts it again); if even its watchdog has stopped writing for
  WORKER_WATCHDOG_DEAD_SECONDS (the process is wedged), this check ends the worker process so
  that the restart policy can act — docker compose never restarts a container for being unhealthy.
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


def _kill_wedged(pid: int) -> bool:
    """SIGKILLs the worker's main process (only if it is a celery process other than this one)."""
    import signal

    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    if pid == os.getpid() or b"celery" not in cmdline:
        return False
    os.kill(pid, signal.SIGKILL)
    return True


def check_worker(now: float | None = None) -> str:
    from common.worker_liveness import read_liveness

    now = time.time() if now is None else now
    node = os.environ.get("CELERY_WORKER_NODE") or f"worker@{os.environ.get('CELERY_WORKER_HOSTNAME') or socket.gethostname()}"
    record = read_liveness(node)
    if record is None:
        raise RuntimeError(f"{node}: no consumption record yet")
    dead_after = float(os.environ.get("WORKER_WATCHDOG_DEAD_SECONDS", "180"))
    silent = now - float(record["written_at"])
    if silent > dead_after:
        killed = _kill_wedged(int(record["pid"]))
        raise RuntimeError(f"{node}: watchdog silent for {silent:.0f} s" + ("; worker process killed for a restart" if killed else ""))
    max_age = float(os.environ.get("WORKER_CONSUMING_MAX_AGE_SECONDS", "60"))
    last = record.get("last_received")
    if record.get("stuck"):
        raise RuntimeError(f"{node}: stopped consuming; exiting for a restart")
    if last is None:
        raise RuntimeError(f"{node}: no probe received yet")
    age = now - float(last)
    if age > max_age:
        raise RuntimeError(f"{node}: last probe received {age:.0f} s ago (limit {max_age:.0f} s)")
    return f"{node}: consuming (last probe {age:.0f} s ago)"


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
