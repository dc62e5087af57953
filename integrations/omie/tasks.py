from celery import shared_task

from integrations.omie.services import omie_call_prune as prune


@shared_task(ignore_result=True)
def omie_call_prune() -> int:
    """Daily: drops OmieCall rows past OMIE_CALL_RETENTION_DAYS."""

    return prune()
