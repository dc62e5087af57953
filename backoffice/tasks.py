"""Backoffice tasks: the admin's exports (written by a worker above the threshold) and their clean-up."""

from __future__ import annotations

import logging

from celery import shared_task

from backoffice.metrics.snapshot import domain_snapshot_write
from billing.models import ExportJob
from billing.services.exports import exports_expired_delete
from integrations.omie.throttle import get_redis

logger = logging.getLogger(__name__)

# 100,000 rows take about a minute (docs/benchmarks.md); the limits leave a wide margin.
EXPORT_SOFT_TIME_LIMIT = 1800


@shared_task(ignore_result=True, soft_time_limit=EXPORT_SOFT_TIME_LIMIT, time_limit=EXPORT_SOFT_TIME_LIMIT + 60)
def export_run(job_id: int) -> None:
    """Writes one export's file. Redelivered after a crash, it starts the file over; a finished job is left alone."""
    from backoffice.exports import export_job_run

    job = ExportJob.objects.filter(pk=job_id).select_related("requested_by").first()
    if job is None or job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
        return
    export_job_run(job)


@shared_task(ignore_result=True)
def exports_cleanup() -> int:
    """Deletes export files past EXPORT_TTL_HOURS (beat, hourly)."""

    return exports_expired_delete()


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30, expires=25)
def metrics_snapshot() -> int:
    """The business gauges for /metrics (beat, every METRICS_SNAPSHOT_SECONDS; backoffice/metrics/snapshot.py)."""

    return domain_snapshot_write(client=get_redis())
