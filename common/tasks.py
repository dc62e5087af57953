from celery import shared_task


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled every minute by beat; /health/ready reads its age."""
    from common.health import record_beat_heartbeat

    record_beat_heartbeat()


@shared_task
def ping(value: str) -> str:
    """A task with no side effect, used to check a worker end to end."""
    return f"pong:{value}"


@shared_task(ignore_result=True, Strategy="common.worker_liveness:probe_strategy")
def worker_probe(hostname: str, sent_at: float) -> None:
    """The consumption probe (common/worker_liveness.py): its strategy records it in the consumer; never run."""
