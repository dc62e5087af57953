"""The go-live check requested on the admin page (integrations/checks/runs.py). Thin: id in."""

from celery import shared_task

from integrations.checks.runs import integrations_check_run_execute


@shared_task(ignore_result=True, soft_time_limit=90, time_limit=120)
def integrations_check_run(run_id: int) -> None:
    integrations_check_run_execute(run_id=run_id)
