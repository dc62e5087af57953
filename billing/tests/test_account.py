"""The customer current account (docs/contract.md#current-account) under real concurrency against PostgreSQL."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Sum
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from billing.models import AccountEntry, CustomerAccount
from billing.services.actions import Caller, account_transfer_from_order
from billing.tests.conftest import run_in_threads
from billing.tests.factories import OrderFactory
from common.api.auth import service_group_add
from orders.models import ActionLog
from orders.statuses import BillingStatus, PaymentStatus

CUSTOMER = "1671702337369x100000000000000001"


def credit(amount: str) -> None:
    source = OrderFactory(paid=True, billing_status=BillingStatus.CANCELLED, amount=Decimal(amount))
    account_transfer_from_order(order_bubble_id=source.bubble_id, caller=Caller(actor="system:test"), reason="crédito")


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_use_cc_never_take_the_balance_below_zero(user_factory):
    credit("1000.00")
    orders = OrderFactory.create_batch(20, amount=Decimal("120.00"), customer_bubble_id=CUSTOMER)
    token = str(AccessToken.for_user(service_group_add(user_factory("bubble"))))

    def use(i: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post(f"/v1/orders/{orders[i].bubble_id}/use-cc", {"operator": "ops@example.com"}, format="json")

    responses = run_in_threads(20, use)

    codes = sorted(r.status_code for r in responses)
    applied = sum(Decimal(r.json()["applied"]) for r in responses if r.status_code == 200)
    assert codes == [200] * 9 + [409] * 11  # 8 × 120 + 40 = 1000
    assert applied == Decimal("1000.00")
    account = CustomerAccount.objects.get(customer_bubble_id=CUSTOMER)
    assert account.balance == Decimal("0.00")
    assert AccountEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] == account.balance
    assert min(AccountEntry.objects.values_list("balance_after", flat=True)) >= 0
    paid = sum((o.amount_paid for o in type(orders[0]).objects.filter(pk__in=[o.pk for o in orders])), Decimal(0))
    assert paid == applied
    assert type(orders[0]).objects.filter(pk__in=[o.pk for o in orders], payment_status=PaymentStatus.PAID).count() == 8
    assert ActionLog.objects.filter(action="cc_use", outcome="rejected").count() == 11


@pytest.mark.django_db(transaction=True)
def test_parallel_transfers_of_one_order_never_move_more_than_was_paid():
    order = OrderFactory(paid=True, billing_status=BillingStatus.CANCELLED, amount=Decimal("100.00"), customer_bubble_id=CUSTOMER)

    def transfer(_i: int):
        return account_transfer_from_order(order_bubble_id=order.bubble_id, caller=Caller(actor="system:test"), reason="x", amount="30.00")

    results = run_in_threads(8, transfer)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 3
    assert CustomerAccount.objects.get(customer_bubble_id=CUSTOMER).balance == Decimal("90.00")


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance_and_changes_to_entries():
    credit("10.00")
    account = CustomerAccount.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerAccount.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))
    entry = AccountEntry.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccountEntry.objects.filter(pk=entry.pk).update(amount=Decimal("99.00"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccountEntry.objects.filter(pk=entry.pk).delete()
    assert AccountEntry.objects.get().amount == Decimal("10.00")
