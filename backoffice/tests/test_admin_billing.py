"""What billing adds to the order screens: the NF number (column and search), Pagar.me events in the
timeline, and the dashboard card of invoices stuck in emission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Invoice
from billing.tests.factories import order_in_state
from integrations.pagarme.webhooks.models import PagarmeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, user_factory):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    return client


def test_the_list_shows_the_nf_number_without_a_query_per_row(superuser_client):
    orders = [order_in_state("ISSUED") for _ in range(3)]
    Invoice.objects.filter(order=orders[0]).update(nfse_number="2026001")
    with CaptureQueriesContext(connection) as few:
        superuser_client.get("/admin/orders/order/")
    for _ in range(20):
        order_in_state("ISSUED")
    with CaptureQueriesContext(connection) as many:
        html = superuser_client.get("/admin/orders/order/").content.decode()
    assert "NF 2026001" in html
    assert len(few.captured_queries) == len(many.captured_queries)


def test_a_cancelled_nf_keeps_its_number_in_the_list_and_a_new_one_wins(superuser_client):
    order = order_in_state("CANCELLED")
    html = superuser_client.get("/admin/orders/order/").content.decode()
    assert "NF 125" in html and "NF cancelada" in html
    Invoice.objects.create(order=order, status="ISSUED", nfse_number="126", issued_at=timezone.now())
    assert "NF 126" in superuser_client.get("/admin/orders/order/").content.decode()


def test_it_finds_an_order_by_its_nf_number(superuser_client):
    wanted, other = order_in_state("ISSUED"), order_in_state("ISSUED")
    Invoice.objects.filter(order=wanted).update(nfse_number="98765")
    response = superuser_client.get("/admin/orders/order/", {"q": "98765"})
    assert [o.pk for o in response.context["cl"].result_list] == [wanted.pk]
    assert other.pk not in [o.pk for o in response.context["cl"].result_list]


def test_the_order_page_shows_the_nf_and_the_pagarme_events_in_the_timeline(superuser_client):
    order = order_in_state("ISSUED", paid=True)
    PagarmeEvent.objects.create(event_id="hook_abc123", type="charge.paid", payload={}, status="APPLIED", order_id=order.pk,
                                bubble_order_id=order.bubble_id, charge_id="ch_1", charge_status="paid", message="Pagamento aplicado.")
    html = superuser_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "nº 123 · NF emitida" in html and 'href="https://nfse.example.com/123"' in html
    assert "Pagar.me avisou: cobrança paga — Aplicado" in html and "evento charge.paid hook_abc123" in html


def test_it_shows_a_dashboard_card_and_a_filter_for_invoices_stuck_in_emission_for_more_than_24_hours(superuser_client):
    stuck, recent = order_in_state("ISSUING", customer_name="Presa Ltda"), order_in_state("ISSUING", customer_name="Recente Ltda")
    long_ago = timezone.now() - timedelta(hours=30)
    Invoice.objects.filter(order=stuck).update(created_at=long_ago, faturar_requested_at=long_ago, faturar_accepted_at=long_ago)

    html = superuser_client.get("/admin/").content.decode()
    card = html.split("Notas presas em emissão (&gt; 24 h)")[1].split("dashboard-card")[0]
    assert '<div class="big">1</div>' in card and "Presa Ltda" in card and "Recente Ltda" not in card

    listed = superuser_client.get("/admin/orders/order/", {"emissao": "parada"}).context["cl"].result_list
    assert [o.pk for o in listed] == [stuck.pk] and recent.pk not in [o.pk for o in listed]
