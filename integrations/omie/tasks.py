from celery import shared_task


@shared_task(ignore_result=True)
def omie_call_prune() -> int:
    """Daily: drops OmieCall rows past OMIE_CALL_RETENTION_DAYS."""
    from integrations.omie.services import omie_call_prune as prune

    return prune()
