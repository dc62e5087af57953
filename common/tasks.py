import time

from celery import shared_task

from common.health import record_beat_heartbeat


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled every minute by beat; /health/ready reads its age."""

    record_beat_heartbeat()


@shared_task
def ping(value: str, seconds: float = 0) -> str:
    """A task with no side effect, used to check a worker end to end (``seconds``: stays running that long, ≤ 30)."""
    if seconds:
        time.sleep(min(float(seconds), 30.0))
    return f"pong:{value}"


@shared_task(ignore_result=True, Strategy="common.worker_liveness:probe_strategy")
def worker_probe(hostname: str, sent_at: float) -> None:
    """The consumption probe (common/worker_liveness.py): its strategy records it in the consumer; never run."""
