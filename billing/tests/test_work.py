"""The invoice work queue: leases make every step single-owner, the dispatcher paces and recovers."""

import base64
import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from billing.models import Invoice, InvoiceStep
from billing.services.work import dispatch_cap, invoice_lease_take, invoices_dispatch
from billing.tests.factories import OrderFactory
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db


def make_invoice(step=InvoiceStep.FATURAR, due_in=-1.0, **fields) -> Invoice:
    order = OrderFactory(billing_status=BillingStatus.ISSUING)
    return Invoice.objects.create(order=order, status=BillingStatus.ISSUING, next_step=step,
                                  next_poll_at=timezone.now() + timedelta(seconds=due_in), **fields)


def queued(redis_client, queue="omie") -> list[tuple[int, str]]:
    """The (invoice id, token) of each step message waiting in the queue, in delivery order."""
    bodies = [json.loads(base64.b64decode(json.loads(m)["body"])) for m in reversed(redis_client.lrange(queue, 0, -1))]
    return [tuple(args) for args, _kwargs, _embed in bodies]


def test_a_dispatch_token_is_taken_once_and_duplicates_of_the_message_do_nothing():
    invoice = make_invoice()
    invoices_dispatch()
    token = str(Invoice.objects.get(pk=invoice.pk).lease_token)
    lease = invoice_lease_take(invoice_id=invoice.pk, token=token)
    assert lease is not None
    assert invoice_lease_take(invoice_id=invoice.pk, token=token) is None  # redelivered copy
    assert invoice_lease_take(invoice_id=invoice.pk, token="00000000-0000-0000-0000-000000000000") is None


def test_dispatch_sends_only_due_unleased_invoices_oldest_first(redis_client, django_capture_on_commit_callbacks):
    due = [make_invoice(due_in=-10 + i) for i in range(3)]
    make_invoice(due_in=+60)  # not yet
    make_invoice(step=InvoiceStep.NONE)  # nothing to do
    make_invoice(leased_until=timezone.now() + timedelta(seconds=60), lease_token="11111111-1111-1111-1111-111111111111")

    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_dispatch() == 3
    assert [invoice_id for invoice_id, _ in queued(redis_client)] == [i.pk for i in due]

    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_dispatch() == 0  # all leased now
    assert redis_client.llen("omie") == 3


@override_settings(OMIE_RATE_PER_METHOD_PER_MINUTE=60, BILLING_DISPATCH_INTERVAL_SECONDS=5)
def test_dispatch_never_has_more_than_one_interval_of_the_rate_in_flight_per_step():
    cap = dispatch_cap()
    assert cap == 9  # 60/min × 5 s × 1.25 + 2
    for _ in range(cap + 5):
        make_invoice()
    for _ in range(3):
        make_invoice(step=InvoiceStep.POLL_NFSE)
    assert invoices_dispatch() == cap + 3
    assert invoices_dispatch() == 0
    # One step finished: room for one more.
    first = Invoice.objects.filter(next_step=InvoiceStep.FATURAR, lease_token__isnull=False).order_by("id").first()
    Invoice.objects.filter(pk=first.pk).update(next_step=InvoiceStep.NONE, lease_token=None, leased_until=None)
    assert invoices_dispatch() == 1


def test_an_expired_lease_is_dispatched_again_and_the_old_holder_loses_it():
    invoice = make_invoice()
    invoices_dispatch()
    old = invoice_lease_take(invoice_id=invoice.pk, token=str(Invoice.objects.get(pk=invoice.pk).lease_token))
    # The worker holding it dies; its lease runs out.
    Invoice.objects.filter(pk=invoice.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert invoices_dispatch() == 1
    new_token = Invoice.objects.get(pk=invoice.pk).lease_token
    assert new_token != old
    assert not Invoice.objects.filter(pk=invoice.pk, lease_token=old).exists()
