"""POST /v1/orders/{id}/retry covers the billing part too (docs/contract.md#ops-actions retry: sync FAILED, billing FAILED, dead
writebacks)."""

import pytest

from billing.models import Invoice
from billing.tests.factories import order_in_state
from orders.models import ActionLog
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db


def test_retry_of_a_billing_failure_resends_the_nfse(auth_client):
    order = order_in_state(BillingStatus.FAILED)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/retry", {"operator": "ops@example.com"}, format="json")
    assert response.status_code == 202, response.json()
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.ISSUING
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == BillingStatus.ISSUING and invoice.next_step == "REENVIAR"
    entry = ActionLog.objects.filter(order=order, action="retry").latest("id")
    assert entry.outcome == "ok" and entry.actor == "bubble:ops@example.com" and "ReenviarOS" in entry.message


def test_retry_of_an_issued_order_is_refused_naming_the_state(auth_client):
    order = order_in_state(BillingStatus.ISSUED)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/retry", {"operator": "ops@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.ISSUED
    assert ActionLog.objects.filter(order=order, action="retry", outcome="rejected").exists()


def test_get_order_shows_its_invoice(auth_client):
    order = order_in_state(BillingStatus.ISSUED)
    body = auth_client.get(f"/v1/orders/{order.bubble_id}").json()
    assert body["invoice"]["nf_number"] == "123"
    assert body["invoice"]["nf_url"] == "https://nfse.example.com/123"
    assert body["invoice"]["status"]["label"] == "NF emitida"


def test_get_order_without_invoice_says_null(auth_client):
    order = order_in_state(BillingStatus.SCHEDULED)
    assert auth_client.get(f"/v1/orders/{order.bubble_id}").json()["invoice"] is None


def test_a_repeat_trigger_of_an_invoiced_order_shows_its_invoice(auth_client):
    order = order_in_state(BillingStatus.ISSUED)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/sync-omie", {}, format="json")
    assert response.status_code == 200
    assert response.json()["invoice"]["nf_number"] == "123"
