"""Daily reconciliation (docs/contract.md#reconciliation) against the fake Omie: drift is flagged, never "fixed" silently."""

import pytest

from billing.models import ReconciliationDrift, ReconciliationRun
from billing.services.reconciliation import reconciliation_page, reconciliation_start
from billing.services.run import orders_due_claim
from billing.tests.conftest import omie_os_for, work_until
from billing.tests.factories import OrderFactory
from orders.models import Order
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile() -> ReconciliationRun:
    run = reconciliation_start(days=3)
    source, page = "os", 1
    while source is not None:
        result = reconciliation_page(run_id=run.pk, source=source, page=page)
        assert result.retry_in is None, "throttled in a test with a quiet Omie"
        source, page = result.next_source, result.next_page
    run.refresh_from_db()
    return run


def test_drift_between_omie_and_our_records_is_flagged_once(fake_omie, settings):
    from integrations.omie.client import get_omie_client
    from sandbox.fake_omie.models import FakeNfse, FakeServiceOrder

    settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS = 0.7
    issued = [OrderFactory() for _ in range(3)]
    for order in issued:
        omie_os_for(order)
    orders_due_claim(actor="system:test")
    work_until(lambda: Order.objects.filter(billing_status=BillingStatus.ISSUED).count() == 3)

    # Someone cancels an NF directly in Omie, and bills an order that is still scheduled here.
    cancelled = issued[0]
    FakeServiceOrder.objects.filter(c_cod_int_os=cancelled.bubble_id).update(cancelada=True)
    FakeNfse.objects.filter(service_order__c_cod_int_os=cancelled.bubble_id).update(status=FakeNfse.Status.CANCELLED)
    future = OrderFactory(billing_scheduled_for="2099-12-25")
    omie_os_for(future)
    get_omie_client().faturar_os(c_cod_int_os=future.bubble_id)

    run = reconcile()

    assert run.status == ReconciliationRun.Status.DONE
    assert (run.os_checked, run.nfse_checked) == (4, 4)
    found = {(d.order.bubble_id, d.kind) for d in ReconciliationDrift.objects.filter(run=run)}
    assert found == {(cancelled.bubble_id, "CANCELLED_IN_OMIE"), (future.bubble_id, "BILLED_IN_OMIE")}
    # Nothing was changed locally.
    assert Order.objects.get(pk=cancelled.pk).billing_status == BillingStatus.ISSUED
    assert Order.objects.get(pk=future.pk).billing_status == BillingStatus.SCHEDULED

    again = reconcile()
    assert again.status == ReconciliationRun.Status.DONE and again.drifts.count() == 0  # still open: not flagged twice
