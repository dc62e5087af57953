"""Issued NFS-e confirmed from Omie's list (billing/services/nfse_bulk.py) against the fake Omie over HTTP:
one ListarNFSEs page settles many invoices, no StatusOS is sent for them, and what the list does not
show (a rejected RPS) stays with StatusOS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Invoice, InvoiceStep
from billing.services import nfse_bulk
from billing.services.nfse_bulk import nfse_bulk_active, nfse_bulk_confirm
from billing.services.run import orders_due_claim
from billing.tests.conftest import due_order, processed, work_until
from orders.models import Order
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db(transaction=True)

REJECTED_CNPJ = "11444777000161"


def _billed(count: int, *, rejected: int = 0) -> list[Order]:
    """``count`` orders whose FaturarOS Omie accepted, their NFS-e ready at the (fake) city hall."""
    orders = [due_order() for _ in range(count - rejected)]
    orders += [due_order(document=REJECTED_CNPJ, customer_bubble_id=f"c-rej-{i}") for i in range(rejected)]
    orders_due_claim(actor="system:test")
    work_until(lambda: Invoice.objects.filter(next_step=InvoiceStep.POLL_NFSE, faturar_accepted_at__isnull=False).count() == count)
    return orders


@pytest.fixture
def quiet_polls(settings, fake_omie):
    # The first StatusOS far away: whatever settles an invoice here is the list.
    settings.BILLING_FIRST_POLL_SECONDS = 3600
    settings.BILLING_NFSE_BULK_MIN_WAITING = 2
    fake_omie.configure(nfse_delay_seconds=0, reject_documents=[REJECTED_CNPJ])


def test_one_list_read_settles_the_issued_invoices_and_sends_no_status_os(quiet_polls, fake_omie):
    from sandbox.fake_omie.models import FakeNfse

    orders = _billed(4, rejected=1)

    result = nfse_bulk_confirm()

    assert (result.confirmed, result.pages) == (3, 1)
    assert processed(fake_omie, "ListarNFSEs") == 1
    assert processed(fake_omie, "StatusOS") == 0
    for order in orders[:3]:
        invoice = Invoice.objects.get(order=order)
        listed = FakeNfse.objects.get(service_order__c_cod_int_os=order.bubble_id)
        assert (invoice.status, invoice.nfse_number, invoice.next_step) == (BillingStatus.ISSUED, str(listed.number), InvoiceStep.NONE)
        assert Order.objects.get(pk=order.pk).billing_status == BillingStatus.ISSUED
    # The rejected RPS is no NFS-e: not listed, so its StatusOS is still due to find the rejection.
    straggler = Invoice.objects.get(order=orders[3])
    assert (straggler.status, straggler.next_step) == (BillingStatus.ISSUING, InvoiceStep.POLL_NFSE)
    # Enough were waiting: new invoices' first StatusOS now waits for the list.
    assert nfse_bulk_active()


def test_pages_are_read_from_the_last_back_and_stop_at_nfse_older_than_our_faturar(quiet_polls, fake_omie, monkeypatch):
    from sandbox.fake_omie.models import FakeCustomer, FakeNfse, FakeServiceOrder

    monkeypatch.setattr(nfse_bulk, "PAGE_SIZE", 2)
    monkeypatch.setattr(nfse_bulk, "CLOCK_SLACK", timedelta(seconds=1))
    # Four NFS-e issued minutes before any of ours (another system, earlier runs): the first two pages.
    customer = FakeCustomer.objects.create(codigo_cliente_integracao="c-old", cnpj_cpf="11222333000181", razao_social="Antigo")
    earlier = timezone.now() - timedelta(minutes=5)
    for i in range(4):
        os_ = FakeServiceOrder.objects.create(c_cod_int_os=f"old-{i}", customer=customer, amount=10, faturada=True)
        FakeNfse.objects.create(service_order=os_, status=FakeNfse.Status.ISSUED, number=900 + i, ready_at=earlier, issued_at=earlier)
    orders = _billed(2, rejected=1)  # ours: one NFS-e listed (page 3), one rejected (never listed)

    result = nfse_bulk_confirm()

    assert result.confirmed == 1
    assert Order.objects.get(pk=orders[0].pk).billing_status == BillingStatus.ISSUED
    # Page 1 (how many pages), page 3 (ours), page 2 (all older than our FaturarOS: stop). Never page 1's rows again.
    pages = [c.param["nPagina"] for c in fake_omie.calls("ListarNFSEs") if c.processed]
    assert pages == [1, 3, 2]
    assert processed(fake_omie, "StatusOS") == 0


def test_an_invoice_whose_step_is_running_is_left_to_its_status_os(quiet_polls, fake_omie):
    orders = _billed(2)
    busy = Invoice.objects.get(order=orders[0])
    Invoice.objects.filter(pk=busy.pk).update(lease_token="00000000-0000-0000-0000-000000000001",
                                              leased_until=timezone.now() + timedelta(minutes=5))

    assert nfse_bulk_confirm().confirmed == 1
    assert Invoice.objects.get(pk=busy.pk).status == BillingStatus.ISSUING  # its poll settles it; nothing written twice
