from datetime import timedelta

import pytest

from billing.models import BillingRun, Invoice, InvoiceStep
from billing.services.run import billing_day_run, orders_due_claim
from billing.tests.conftest import run_in_threads
from billing.tests.factories import OrderFactory
from common.dates import today_sp
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, HoldReason


@pytest.mark.django_db
def test_the_run_sends_due_orders_to_emission_and_leaves_held_future_and_unpaid_ones():
    due = OrderFactory.create_batch(5)
    late = OrderFactory(billing_scheduled_for=today_sp() - timedelta(days=3))  # the run missed it (beat down)
    future = OrderFactory(billing_scheduled_for=today_sp() + timedelta(days=30))
    held = OrderFactory(billing_status=BillingStatus.ON_HOLD, hold_reason=HoldReason.AMOUNT)
    unpaid_pf = OrderFactory(pf_unpaid=True)

    run, more = billing_day_run(actor="system:test")

    assert (run.claimed, run.firings, more) == (6, 1, False) and run.finished_at
    for order in [*due, late]:
        order.refresh_from_db()
        assert order.billing_status == BillingStatus.ISSUING
        invoice = order.invoices.get()
        assert (invoice.status, invoice.next_step, invoice.faturar_requested_at) == (BillingStatus.ISSUING, InvoiceStep.FATURAR, None)
        assert ActionLog.objects.filter(order=order, action="billing_emit", outcome="ok").count() == 1
    for order, status in ((future, BillingStatus.SCHEDULED), (held, BillingStatus.ON_HOLD), (unpaid_pf, BillingStatus.AWAITING_PAYMENT)):
        order.refresh_from_db()
        assert order.billing_status == status and not order.invoices.exists()


@pytest.mark.django_db
def test_firing_the_run_three_times_emits_each_order_once():
    orders = OrderFactory.create_batch(7)
    for _ in range(3):
        billing_day_run(actor="system:test")
    run = BillingRun.objects.get(billing_date=today_sp())
    assert (run.firings, run.claimed) == (3, 7)
    assert Invoice.objects.count() == 7
    assert set(Invoice.objects.values_list("order_id", flat=True)) == {o.pk for o in orders}


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_and_sweeps_claim_every_order_exactly_once():
    OrderFactory.create_batch(120)
    results = run_in_threads(6, lambda i: orders_due_claim(actor=f"system:worker-{i}", batch_size=15))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.claimed for r in results) == 120
    assert Invoice.objects.count() == 120
    assert Order.objects.filter(billing_status=BillingStatus.ISSUING).count() == 120
    assert ActionLog.objects.filter(action="billing_emit").count() == 120


@pytest.mark.django_db
def test_a_run_out_of_time_says_so_and_its_continuation_claims_the_rest(settings):
    from billing.services.run import billing_run_continue

    settings.BILLING_CLAIM_BATCH = 10
    OrderFactory.create_batch(30)
    run, more = billing_day_run(actor="system:test", time_budget=1e-9)  # the budget is spent after one batch
    assert more and run.finished_at is None
    assert run.claimed == 10
    while more:
        run, more = billing_run_continue(actor="system:test", time_budget=1e-9)
    assert run.claimed == 30 and run.finished_at and run.firings == 1
    assert Invoice.objects.count() == 30
