"""Periodic tasks of the orders app (declared in orders/periodic.py)."""

from celery import shared_task

from common.api.idempotency_records import idempotency_prune


@shared_task(ignore_result=True)
def order_sync_sweep() -> int:
    """Re-enqueues syncs left PENDING by a lost message or a killed worker, and, once an Omie dry
    run is switched off, the orders it left waiting."""
    from orders.services import order_sync_sweep_stuck
    from orders.services.dry_run import order_dry_run_replay

    return order_dry_run_replay() + order_sync_sweep_stuck()


@shared_task(ignore_result=True)
def idempotency_records_prune() -> int:
    """Deletes Idempotency-Key records past their 24 h replay window."""
    return idempotency_prune()
