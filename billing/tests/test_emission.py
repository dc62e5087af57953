"""Emission against the fake Omie over real HTTP (docs/contract.md#billing-and-emission): FaturarOS at most once, StatusOS polling,
rejection and retry, cancellation. Steps run in-process (``work_until``); the worker tests are in
test_worker_runs.py."""

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from billing.models import FailureStage, Invoice, InvoiceStep
from billing.services.run import orders_due_claim
from billing.tests.conftest import due_order, processed, status_of, work_until
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus
from sandbox.fake_omie.models import FakeNfse

pytestmark = pytest.mark.django_db(transaction=True)

OPERATOR = "ana@blu.example.com"


def bubble_fields(order: Order) -> dict:
    """What Bubble will have for this order once the outbox is delivered (newest values win)."""
    from integrations.bubble.models import BubbleWriteback

    merged: dict = {}
    for row in BubbleWriteback.objects.filter(thing="order", bubble_id=order.bubble_id).order_by("id"):
        merged.update(row.fields)
    return merged


def test_a_due_order_is_issued_with_number_code_and_url_and_bubble_is_told(fake_omie):
    order = due_order()
    assert orders_due_claim(actor="system:test").claimed == 1
    assert bubble_fields(order)["status_faturamento"] == "Em emissão"

    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    invoice = Invoice.objects.get(order=order)
    (rps,) = FakeNfse.objects.filter(service_order__c_cod_int_os=order.bubble_id)
    # The number, code and link are the ones StatusOS carries in ListaRpsNfse[] (the fake's NFS-e record).
    assert invoice.status == BillingStatus.ISSUED and invoice.nfse_number == str(rps.number)
    assert invoice.verification_code == rps.verification_code and invoice.nfse_url == rps.url
    assert (invoice.rps_status, invoice.lot_status) == ("004", "004")
    assert invoice.issued_at and invoice.next_step == InvoiceStep.NONE and invoice.lease_token is None
    assert processed(fake_omie, "FaturarOS") == 1
    fields = bubble_fields(order)
    assert fields["status_faturamento"] == "NF emitida"
    assert (fields["nf_numero"], fields["nf_link"], fields["erro_integracao"]) == (invoice.nfse_number, invoice.nfse_url, "")
    assert ActionLog.objects.filter(order=order, action="billing_issued", outcome="ok").exists()


def test_statusos_is_never_asked_twice_for_one_os_within_omies_window(fake_omie, settings):
    settings.BILLING_FIRST_POLL_SECONDS = 0.0
    fake_omie.configure(nfse_delay_seconds=150)  # × 0.01: the city hall takes 1.5 s
    order = due_order()
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    polls = [c for c in fake_omie.calls("StatusOS")]
    assert len(polls) >= 2
    assert all(c.processed for c in polls), "a StatusOS was answered REDUNDANT"
    gaps = [(b.received_at - a.received_at).total_seconds() for a, b in pairwise(polls)]
    assert min(gaps) >= settings.BILLING_SAME_OS_MIN_INTERVAL_SECONDS
    assert Invoice.objects.get(order=order).poll_count == len(polls)


def test_a_city_hall_rejection_fails_with_its_message_and_fix_plus_retry_issues_it(fake_omie, auth_client, admin_client):
    order = due_order(document="11444777000161", customer_bubble_id="1671702337369x100000000000000077")
    fake_omie.configure(reject_documents=[order.document])
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.FAILED)

    order.refresh_from_db()
    invoice = Invoice.objects.get(order=order)
    assert "E0314" in order.last_error and "E0314" in invoice.city_hall_message
    # mensagens[] as ops read it: code, description and Omie's suggested fix.
    assert invoice.city_hall_message.startswith("E0314 - Inscrição municipal do prestador") and "correção:" in invoice.city_hall_message
    assert invoice.failure_stage == FailureStage.NFSE and invoice.rps_status == ""
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Inscrição municipal do prestador não confere" in page
    assert bubble_fields(order)["erro_integracao"] == order.last_error
    assert bubble_fields(order)["status_faturamento"] == "Falha na emissão"

    fake_omie.configure(reject_documents=[])  # ops fixed the registration at the city hall
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/retry", {"operator": OPERATOR}, format="json")
    assert response.status_code == 202, response.json()
    assert status_of(order) == BillingStatus.ISSUING
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    assert processed(fake_omie, "FaturarOS") == 1  # the OS was billed once; the NFS-e was re-sent
    assert processed(fake_omie, "ReenviarOS") == 1
    order.refresh_from_db()
    assert order.last_error == "" and bubble_fields(order)["erro_integracao"] == ""


def test_a_lost_faturar_response_is_settled_by_consultar_and_never_sent_again(fake_omie):
    from integrations.omie.client import get_omie_client

    order = due_order()
    orders_due_claim(actor="system:test")
    invoice = Invoice.objects.get(order=order)
    # A worker sent FaturarOS (Omie billed the OS) and died before storing anything but its mark.
    get_omie_client().faturar_os(c_cod_int_os=order.bubble_id)
    Invoice.objects.filter(pk=invoice.pk).update(faturar_requested_at=timezone.now(), lease_token=None, leased_until=None)

    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    assert processed(fake_omie, "FaturarOS") == 1
    assert processed(fake_omie, "ConsultarOS") == 1
    assert Invoice.objects.get(pk=invoice.pk).faturar_attempts == 0  # nothing sent by billing itself


def test_an_unknown_outcome_that_never_reached_omie_is_sent_once_after_consulting(fake_omie):
    order = due_order()
    orders_due_claim(actor="system:test")
    Invoice.objects.filter(order=order).update(faturar_requested_at=timezone.now() - timedelta(minutes=5))

    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    calls = [c.call for c in fake_omie.calls() if c.processed]
    assert calls.index("ConsultarOS") < calls.index("FaturarOS")
    assert processed(fake_omie, "FaturarOS") == 1


def test_a_broken_response_to_faturar_is_checked_with_consultar_before_anything_else(fake_omie):
    order = due_order()
    fake_omie.inject("broken_response", call="FaturarOS")
    orders_due_claim(actor="system:test")

    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    calls = [c.call for c in fake_omie.calls()]
    first_faturar = calls.index("FaturarOS")
    assert calls[first_faturar + 1] == "ConsultarOS"
    assert processed(fake_omie, "FaturarOS") == 1


def test_omie_refusing_faturar_fails_the_order_with_omies_words(fake_omie):
    from sandbox.fake_omie.models import FakeServiceOrder

    order = due_order()
    FakeServiceOrder.objects.filter(c_cod_int_os=order.bubble_id).update(cancelada=True)
    orders_due_claim(actor="system:test")

    work_until(lambda: status_of(order) == BillingStatus.FAILED)

    order.refresh_from_db()
    assert order.last_error.startswith("Omie recusou o faturamento") and "cancelada" in order.last_error
    assert Invoice.objects.get(order=order).failure_stage == FailureStage.FATURAR


def test_throttled_orders_wait_their_turn_and_each_is_billed_once(fake_omie, settings):
    settings.OMIE_RATE_PER_METHOD_PER_MINUTE = 120
    settings.OMIE_RATE_BURST_PER_METHOD = 1
    orders = [due_order() for _ in range(4)]
    orders_due_claim(actor="system:test")

    work_until(lambda: Order.objects.filter(billing_status=BillingStatus.ISSUED).count() == 4)

    assert processed(fake_omie, "FaturarOS") == 4
    assert {c.param["cCodIntOS"] for c in fake_omie.calls("FaturarOS") if c.processed} == {o.bubble_id for o in orders}
    assert not [c for c in fake_omie.calls() if c.http_status in (425, 429)]


def test_cancel_nf_is_confirmed_by_statusos_005_and_ends_cancelled(fake_omie, auth_client):
    order = due_order()
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    body = {"operator": OPERATOR, "reason_code": 2, "justification": "Serviço não foi prestado ao cliente."}
    assert auth_client.post(f"/v1/orders/{order.bubble_id}/cancel-nf", body, format="json").status_code == 202
    assert status_of(order) == BillingStatus.CANCELLING
    work_until(lambda: status_of(order) == BillingStatus.CANCELLED)

    invoice = Invoice.objects.get(order=order)
    assert invoice.cancelled_at and invoice.cancel_reason_code == 2
    assert processed(fake_omie, "CancelarOS") == 1
    last_status = [c for c in fake_omie.calls("StatusOS") if c.processed][-1]
    assert last_status.param == {"cCodIntOS": order.bubble_id, "lMsg": True, "lPdfDest": True}
    assert bubble_fields(order)["status_faturamento"] == "NF cancelada"


def test_a_refused_cancellation_returns_the_nf_to_issued_with_the_reason(fake_omie, auth_client):
    order = due_order()
    orders_due_claim(actor="system:test")
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)
    fake_omie.inject("business", call="CancelarOS")

    body = {"operator": OPERATOR, "reason_code": 1, "justification": "Valor da nota está errado."}
    assert auth_client.post(f"/v1/orders/{order.bubble_id}/cancel-nf", body, format="json").status_code == 202
    work_until(lambda: Invoice.objects.get(order=order).cancel_error != "")

    order.refresh_from_db()
    assert order.billing_status == BillingStatus.ISSUED
    assert order.last_error.startswith("Omie recusou o cancelamento")
    assert Invoice.objects.get(order=order).status == BillingStatus.ISSUED


def test_a_pf_order_paid_on_pagarme_ends_nf_emitida_with_the_number_statusos_lists(fake_omie, fake_pagarme):
    """Issue 21's path end to end: a signed charge.paid confirmed by the (fake) Pagar.me API → FaturarOS →
    StatusOS in Omie's documented shape (the number inside ListaRpsNfse[]) → NF emitida in Bubble."""
    from billing.tests.conftest import omie_os_for
    from billing.tests.factories import OrderFactory
    from billing.tests.test_pagarme_v5 import build, post_signed, process_all

    order = OrderFactory(pf_unpaid=True, amount=Decimal("1500.00"))
    omie_os_for(order)
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert process_all() == ["APPLIED"]
    orders_due_claim(actor="system:test")  # a paid PF order is due today
    work_until(lambda: status_of(order) == BillingStatus.ISSUED)

    (rps,) = FakeNfse.objects.filter(service_order__c_cod_int_os=order.bubble_id)
    invoice = Invoice.objects.get(order=order)
    assert invoice.nfse_number == str(rps.number) and invoice.rps_status == "004"
    assert bubble_fields(order)["status_faturamento"] == "NF emitida"
    assert bubble_fields(order)["nf_numero"] == str(rps.number)
