"""Lists show the customer's name and the order beside the Bubble id; the Pagar.me event page shows the
payment in reais with the raw JSON folded below."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import AccountEntry, CustomerAccount
from billing.tests.factories import order_in_state
from integrations.bubble.models import BubbleWriteback
from integrations.pagarme.webhooks.models import PagarmeEvent
from orders.models import ActionLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return order_in_state("ISSUED", paid=True, customer_name="Fulana de Tal Consultoria", amount=Decimal("1000.50"))


@pytest.fixture
def event(order):
    payload = {"id": "hook_1", "type": "charge.paid", "created_at": "2026-11-01T10:00:00Z",
               "data": {"id": "ch_1", "status": "paid", "amount": 100050, "paid_at": "2026-11-01T10:00:00Z",
                        "metadata": {"bubble_order_id": order.bubble_id}}}
    return PagarmeEvent.objects.create(event_id="hook_1", type="charge.paid", payload=payload, status="APPLIED", order_id=order.pk,
                                       bubble_order_id=order.bubble_id)


def test_every_list_shows_the_customer_and_the_order(admin_client: Client, order, event):
    ActionLog.objects.create(actor="bubble", action="sync_trigger", order=order, order_bubble_id=order.bubble_id, outcome="ok")
    BubbleWriteback.objects.create(thing="order", bubble_id=order.bubble_id, order_id=order.pk, fields={"status_pedido": "x"},
                                   give_up_at=timezone.now())
    account = CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=Decimal("5"))
    AccountEntry.objects.create(account=account, amount=Decimal("5"), balance_after=Decimal("5"), kind="TRANSFER_IN", order=order,
                                actor="admin:x")
    for url in ("/admin/orders/actionlog/", "/admin/pagarme/pagarmeevent/", "/admin/bubble/bubblewriteback/",
                "/admin/billing/invoice/", "/admin/billing/customeraccount/", "/admin/billing/accountentry/"):
        page = admin_client.get(url).content.decode()
        assert "Fulana de Tal Consultoria" in page, url
        assert order.bubble_id in page or order.customer_bubble_id in page, url


def test_the_pagarme_event_page_shows_reais_and_folds_the_json(admin_client: Client, event):
    list_page = admin_client.get("/admin/pagarme/pagarmeevent/").content.decode()
    assert "R$ 1.000,50" in list_page
    page = admin_client.get(f"/admin/pagarme/pagarmeevent/{event.pk}/change/").content.decode()
    assert "R$ 1.000,50" in page
    folded = page.index("Conteúdo recebido (JSON)")
    assert "collapse" in page[page.rfind("<fieldset", 0, folded):folded]
    assert page.index("R$ 1.000,50") < folded < page.index("100050")
