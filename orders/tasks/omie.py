"""Order tasks that call Omie: routed to the ``omie`` queue (config/settings/celery.py)."""

from celery import shared_task


@shared_task(bind=True, max_retries=None)
def order_sync_omie(self, order_id: int) -> None:
    """Sync steps 3–5: UpsertCliente, IncluirOS, SYNCED. Retries are bounded by the service."""
    from orders.services import order_sync_continue
    from orders.services import order_sync_omie as step

    outcome = step(order_id=order_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    if outcome.go_on:
        order_sync_continue(order_id=order_id)
