"""order_billing_decide: the decision stored on the order, written back to Bubble, emitted when due."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.decision import next_billing_date
from billing.models import Invoice
from billing.services.decision import order_billing_decide
from billing.tests.factories import OrderFactory
from common.dates import today_sp
from orders.models import ActionLog
from orders.statuses import BillingStatus, BillingTrigger, HoldReason, PaymentStatus, SyncStatus

pytestmark = pytest.mark.django_db


def undecided(**kwargs):
    return OrderFactory(billing_status="", billing_trigger="", billing_scheduled_for=None, **kwargs)


def pending_writeback(order) -> dict:
    from integrations.bubble.models import BubbleWriteback

    row = BubbleWriteback.objects.filter(thing="order", bubble_id=order.bubble_id).order_by("-id").first()
    return row.fields if row else {}


def test_a_pj_order_is_scheduled_for_the_billing_day_and_bubble_gets_the_date(settings):
    order = undecided()
    order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert (order.billing_status, order.billing_trigger) == (BillingStatus.SCHEDULED, BillingTrigger.DAY_25)
    assert order.billing_scheduled_for == next_billing_date(today_sp(), settings.BILLING_DAY)
    fields = pending_writeback(order)
    assert fields["status_faturamento"] == "Agendado dia 25"
    assert fields["data_faturamento_prevista"] == order.billing_scheduled_for.isoformat()
    assert ActionLog.objects.filter(order=order, action="billing_decide").count() == 1
    # Running it again changes nothing and logs nothing.
    order_billing_decide(order=order, actor="system:test")
    assert ActionLog.objects.filter(order=order, action="billing_decide").count() == 1


def test_a_paid_pf_order_is_emitted_at_once(django_capture_on_commit_callbacks):
    order = undecided(customer_kind="PF", document="52998224725", payment_status=PaymentStatus.PAID)
    with django_capture_on_commit_callbacks() as callbacks:
        order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert (order.billing_status, order.billing_trigger, order.billing_scheduled_for) == (
        BillingStatus.ISSUING, BillingTrigger.IMMEDIATE, today_sp())
    assert Invoice.objects.get(order=order).next_step == "FATURAR"
    assert any("invoice_step" in repr(c) for c in callbacks)
    assert pending_writeback(order)["status_faturamento"] == "Em emissão"


def test_a_held_order_waits_on_hold_with_its_reason():
    order = undecided(amount=Decimal("75000.00"))
    order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert (order.billing_status, order.hold_reason) == (BillingStatus.ON_HOLD, HoldReason.AMOUNT)
    assert pending_writeback(order)["status_faturamento"] == "Retido para aprovação"


@pytest.mark.parametrize("status", [BillingStatus.ISSUING, BillingStatus.ISSUED, BillingStatus.FAILED, BillingStatus.CANCELLED,
                                    BillingStatus.MANUAL])
def test_an_order_in_or_past_emission_is_never_moved_by_the_decision(status):
    order = OrderFactory(billing_status=status, payment_status=PaymentStatus.PAID)
    order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert order.billing_status == status and not Invoice.objects.filter(order=order).exists()


def test_an_order_not_synced_yet_keeps_an_empty_billing_status():
    order = OrderFactory(unsynced=True, customer_kind="PF", payment_status=PaymentStatus.PAID)
    order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert (order.billing_status, order.sync_status) == ("", SyncStatus.PENDING)


def test_a_date_already_set_is_kept_when_the_decision_runs_again():
    order = OrderFactory(billing_status=BillingStatus.ON_HOLD, hold_reason=HoldReason.CUSTOMER_FLAG,
                         billing_scheduled_for=today_sp() - timedelta(days=40), requires_approval=False)
    order_billing_decide(order=order, actor="system:test")
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.SCHEDULED
    assert order.billing_scheduled_for == today_sp() - timedelta(days=40)
