"""The transition tables of billing/services/state.py: what may move where, and the error for the rest."""

from __future__ import annotations

import pytest
from django.utils import timezone

from billing.models import Invoice
from billing.services.state import (
    BILLING_TRANSITIONS,
    INVOICE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    IllegalTransition,
    invoice_create,
    invoice_status_set,
    order_billing_status_set,
    order_payment_status_set,
    orders_emission_claim,
)
from billing.tests.factories import OrderFactory, order_in_state
from common.exceptions import InvalidState
from integrations.bubble.models import BubbleWriteback
from orders.statuses import BillingStatus, PaymentStatus

pytestmark = pytest.mark.django_db


def test_every_status_has_a_row_in_its_table():
    assert set(BILLING_TRANSITIONS) == {"", *BillingStatus.values}
    assert set(INVOICE_TRANSITIONS) - {None} <= set(BillingStatus.values)
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus.values)


def test_an_allowed_billing_transition_is_stored_versioned_and_written_back():
    order = order_in_state(BillingStatus.ISSUED)
    version = order.version

    order_billing_status_set(order=order, status=BillingStatus.CANCELLING)

    order.refresh_from_db()
    assert order.billing_status == BillingStatus.CANCELLING
    assert order.version == version + 1
    assert BubbleWriteback.objects.filter(bubble_id=order.bubble_id).exists()


@pytest.mark.parametrize(("current", "new"), [
    (BillingStatus.CANCELLED, BillingStatus.ISSUING),
    (BillingStatus.MANUAL, BillingStatus.ISSUED),
    (BillingStatus.ISSUED, BillingStatus.FAILED),
    (BillingStatus.AWAITING_PAYMENT, BillingStatus.ISSUING),
    (BillingStatus.ISSUING, BillingStatus.SCHEDULED),
])
def test_an_illegal_billing_transition_raises_and_changes_nothing(current, new):
    order = order_in_state(current)
    version = order.version

    with pytest.raises(IllegalTransition) as raised:
        order_billing_status_set(order=order, status=new)

    assert isinstance(raised.value, InvalidState)  # an API caller would see 409 invalid_state, not a 500
    assert f"{current} → {new}" in raised.value.message
    order.refresh_from_db()
    assert (order.billing_status, order.version) == (current, version)


def test_billing_starts_only_on_a_synced_order():
    # Was the CHECK constraint order_billing_only_after_sync; the state module enforces it now.
    order = OrderFactory(unsynced=True)

    with pytest.raises(IllegalTransition, match="antes da sincronização"):
        order_billing_status_set(order=order, status=BillingStatus.SCHEDULED)

    order.refresh_from_db()
    assert order.billing_status == ""


def test_an_invoice_is_born_issuing_or_manual_and_follows_its_table():
    order = order_in_state(BillingStatus.SCHEDULED)

    with pytest.raises(IllegalTransition):
        invoice_create(order=order, status=BillingStatus.ISSUED)
    invoice = invoice_create(order=order, status=BillingStatus.ISSUING, next_step="FATURAR", next_poll_at=timezone.now())
    invoice_status_set(invoice=invoice, status=BillingStatus.FAILED)
    invoice.save()

    with pytest.raises(IllegalTransition, match="nota fiscal"):
        invoice_status_set(invoice=invoice, status=BillingStatus.CANCELLING)
    assert Invoice.objects.get(pk=invoice.pk).status == BillingStatus.FAILED


def test_a_payment_failure_never_undoes_a_payment():
    order = OrderFactory(paid=True)

    with pytest.raises(IllegalTransition, match="pagamento"):
        order_payment_status_set(order=order, status=PaymentStatus.FAILED, at=timezone.now())
    assert order.payment_status == PaymentStatus.PAID
    fields = order_payment_status_set(order=order, status=PaymentStatus.REFUNDED, at=timezone.now())
    assert fields == ["payment_status", "payment_state_at"]


def test_the_run_claim_checks_every_order_of_the_batch():
    due, held = order_in_state(BillingStatus.SCHEDULED), order_in_state(BillingStatus.ON_HOLD)

    with pytest.raises(IllegalTransition):
        orders_emission_claim(orders=[due, held], actor="system:test", now=timezone.now())

    assert not Invoice.objects.filter(order__in=[due, held]).exists()
