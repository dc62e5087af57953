"""Billing tasks that do not call Omie themselves (``default`` queue). The Omie ones are in ``omie.py``."""

from __future__ import annotations

from celery import shared_task
from sentry_sdk.crons import monitor

from billing.tasks.nfse_documents import nfse_archive_fetch, nfse_archives_sweep
from billing.tasks.omie import invoice_step, reconciliation_step
from billing.tasks.omie_webhooks import omie_webhook_process, omie_webhooks_requeue
from integrations.pagarme.webhooks.services import pagarme_events_requeue
from orders.services.action_log import actor_for_task

__all__ = [
    "billing_day_run",
    "billing_due_sweep",
    "billing_run_continue",
    "invoice_step",
    "invoices_dispatch",
    "nfse_archive_fetch",
    "nfse_archives_sweep",
    "omie_webhook_process",
    "omie_webhooks_requeue",
    "pagarme_event_process",
    "pagarme_events_retention",
    "reconciliation_run",
    "reconciliation_step",
]

DAY_RUN_MONITOR = "billing-day25-run"


@shared_task(ignore_result=True)
def invoices_dispatch(from_link: bool = False) -> int:
    """Hands due invoice steps to the omie queue, paced to Omie's rate (beat, plus a self-chain while busy)."""
    from billing.services.work import invoices_dispatch_chain

    return invoices_dispatch_chain(from_link=from_link)


# Claiming stops well within the task's time limit; a continuation task picks up where it stopped.
CLAIM_TIME_BUDGET_SECONDS = 60.0


@shared_task
def billing_day_run() -> dict[str, object]:
    """The day-25 run (crontab 07:00 America/Sao_Paulo). Safe to fire any number of times."""

    from billing.services.run import billing_day_run as run_service

    with monitor(monitor_slug=DAY_RUN_MONITOR):
        run, more = run_service(actor=actor_for_task("billing.billing_day_run"), time_budget=CLAIM_TIME_BUDGET_SECONDS)
    if more:
        billing_run_continue.delay()
    return {"billing_date": run.billing_date.isoformat(), "claimed_total": run.claimed, "firings": run.firings, "more": more}


@shared_task
def billing_run_continue() -> dict[str, object]:
    from billing.services.run import billing_run_continue as continue_service

    run, more = continue_service(actor=actor_for_task("billing.billing_day_run"), time_budget=CLAIM_TIME_BUDGET_SECONDS)
    if more:
        billing_run_continue.delay()
    return {"billing_date": run.billing_date.isoformat(), "claimed_total": run.claimed, "more": more}


@shared_task
def billing_due_sweep() -> dict[str, int]:
    """Every 10 minutes: emits whatever is due that the run missed; re-enqueues stuck webhook events."""
    from billing.services.run import orders_due_claim

    result = orders_due_claim(actor=actor_for_task("billing.billing_due_sweep"), time_budget=CLAIM_TIME_BUDGET_SECONDS)
    if result.more:
        billing_run_continue.delay()
    requeued = pagarme_events_requeue()
    return {"claimed": result.claimed, "webhooks_requeued": requeued}


@shared_task(ignore_result=True, acks_late=True)
def pagarme_event_process(event_pk: int) -> str:
    """Processes one webhook event; when Pagar.me's API could not confirm it, tries again after a backoff."""
    from billing.services.webhooks import RETRY, pagarme_event_retry_delay
    from billing.services.webhooks import pagarme_event_process as process

    result = process(event_pk=event_pk)
    if result == RETRY:
        delay = pagarme_event_retry_delay(event_pk)
        if delay is not None:  # else the sweep (billing_due_sweep) keeps trying, every 10 minutes
            pagarme_event_process.apply_async((event_pk,), countdown=delay)
    return result


@shared_task(ignore_result=True)
def pagarme_events_retention() -> int:
    """Daily (LGPD): webhook payloads past PAGARME_EVENT_RETENTION_DAYS keep only ids, status, amounts, times."""
    from billing.services.webhooks import pagarme_events_reduce

    return pagarme_events_reduce()


@shared_task
def reconciliation_run() -> int:
    from billing.services.reconciliation import reconciliation_start

    run = reconciliation_start()
    reconciliation_step.delay(run.pk, "os", 1)
    return run.pk
