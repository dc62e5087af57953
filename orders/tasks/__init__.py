"""Order tasks: thin wrappers that take ids and call a service (imported inside the body).

The Omie-calling task lives in ``orders.tasks.omie`` (routed to the ``omie`` queue); sweeps in
``orders.tasks.sweeps``. Both are imported here so Celery's autodiscovery registers them.
"""

from celery import shared_task

from orders.tasks import omie, sweeps  # noqa: F401 - registers the tasks of the submodules


@shared_task(bind=True, max_retries=None)
def order_sync_fetch(self, order_id: int) -> None:
    """Sync steps 1–2: Bubble (+ BrasilAPI for a PJ). Retries are bounded by the service."""
    from orders.services import order_sync_continue
    from orders.services import order_sync_fetch as step

    outcome = step(order_id=order_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    if outcome.go_on:
        order_sync_continue(order_id=order_id)
