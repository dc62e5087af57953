"""Issue 24: "Registrar NF manual" takes a pt-BR date (dd/mm/aaaa) between the order's creation and today,
repeats it in the success message, counts the NF in that date's month (the month close shows it there),
and is allowed from "Em emissão", with the emission stopped first (a worker's late result is not stored).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from billing.models import Invoice
from billing.month_close import Month, manual_invoices, month_close
from billing.services.work import invoice_lease_take
from billing.tests.factories import order_in_state
from common.dates import SAO_PAULO, today_sp
from orders.models import ActionLog, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(user_factory) -> Client:
    user = user_factory("ana.ops", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    client = Client()
    client.force_login(user)
    return client


def _record(client: Client, order: Order, issued_on: str, nf_number: str = "NF-501") -> Any:
    return client.post(f"/admin/orders/order/{order.pk}/acao/mark-nf-manual/",
                       {"nf_number": nf_number, "issued_on": issued_on, "nf_url": "", "note": ""}, follow=True)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _created(order: Order, day) -> Order:
    """The order as if created on ``day`` (São Paulo)."""
    Order.objects.filter(pk=order.pk).update(created_at=datetime.combine(day, time(9, 0), tzinfo=SAO_PAULO))
    order.refresh_from_db()
    return order


def test_the_form_asks_for_a_date_as_ops_write_it(ops):
    order = order_in_state("SCHEDULED")
    page = ops.get(f"/admin/orders/order/{order.pk}/acao/mark-nf-manual/").content.decode()
    assert 'placeholder="dd/mm/aaaa"' in page
    assert 'type="date"' not in page  # the browser's own (locale-dependent) picker is not used

    response = _record(ops, order, "2026-12-01")  # the ISO form ops never type
    assert "Informe a data como dd/mm/aaaa" in response.content.decode()
    order.refresh_from_db()
    assert order.billing_status == "SCHEDULED"


def test_a_date_in_the_order_s_life_is_repeated_in_the_message_and_counted_in_its_month(ops):
    today = today_sp()
    last_month = Month(today.year, today.month).previous
    order = _created(order_in_state("SCHEDULED"), last_month.first)
    issued = last_month.first + timedelta(days=3)

    response = _record(ops, order, f"{issued:%d/%m/%Y}")

    said = [m for m in _messages(response) if "NF manual NF-501" in m]
    assert said, _messages(response)
    assert f"{issued:%d/%m/%Y}" in said[0] and f"faturamento de {last_month.label}" in said[0]
    order.refresh_from_db()
    assert order.billing_status == "MANUAL"
    invoice = Invoice.objects.get(order=order)
    assert invoice.issued_at.astimezone(SAO_PAULO).date() == issued
    # The month close counts it in the month of its date, not in the month it was typed in.
    assert list(manual_invoices(last_month)) == [invoice]
    assert not manual_invoices(Month(today.year, today.month)).exists()
    manual = next(g for g in month_close(last_month) if g.key == "manuais")
    assert manual.total.count == 1 and manual.total.amount == order.amount
    page = ops.get(f"/admin/billing/invoice/faturamento-do-mes/?mes={last_month.key}")
    assert page.status_code == 200
    assert page.context["rows"][2]["group"].key == "manuais" and page.context["rows"][2]["count"] == 1


@pytest.mark.parametrize("when", ["before_creation", "future"])
def test_a_date_outside_the_order_s_life_is_refused_saying_why_and_nothing_changes(ops, when):
    today = today_sp()
    order = _created(order_in_state("FAILED"), today - timedelta(days=10))
    typed = today - timedelta(days=11) if when == "before_creation" else today + timedelta(days=1)
    before = Order.objects.filter(pk=order.pk).values().get()

    response = _record(ops, order, f"{typed:%d/%m/%Y}")

    text = " ".join(_messages(response)) + response.content.decode()
    assert f"{typed:%d/%m/%Y}" in text
    if when == "before_creation":
        assert "anterior à criação do pedido" in text and f"{today - timedelta(days=10):%d/%m/%Y}" in text
    else:
        assert "não pode estar no futuro" in text
    assert Order.objects.filter(pk=order.pk).values().get() == before
    assert Invoice.objects.get(order=order).status == "FAILED"
    log = ActionLog.objects.filter(order_bubble_id=order.bubble_id, action="nf_mark_manual").latest("id")
    assert log.outcome == "rejected" and f"{typed:%d/%m/%Y}" in log.message


def test_the_api_refuses_a_date_before_the_order_too(auth_client):
    order = _created(order_in_state("SCHEDULED"), today_sp() - timedelta(days=2))
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/mark-nf-manual",
                                {"operator": "ana@blu.example.com", "nf_number": "9",
                                 "issued_at": (today_sp() - timedelta(days=3)).isoformat()}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"]["fields"].keys() == {"issued_at"}


def test_from_em_emissao_the_emission_is_stopped_first(ops):
    order = order_in_state("ISSUING")
    invoice = Invoice.objects.get(order=order)
    token = "6f0d5a8e-8a8e-4a8e-9a8e-0a8e8a8e8a8e"
    Invoice.objects.filter(pk=invoice.pk).update(lease_token=token, leased_until=timezone.now() + timedelta(minutes=5))

    page = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert f'href="/admin/orders/order/{order.pk}/acao/mark-nf-manual/"' in page  # enabled in "Em emissão"
    response = _record(ops, order, f"{today_sp():%d/%m/%Y}", nf_number="NF-900")

    said = [m for m in _messages(response) if "NF manual NF-900" in m]
    assert said and "Emissão pelo sistema interrompida" in said[0], _messages(response)
    assert "o Omie já recebeu o pedido de faturamento" in said[0]  # FaturarOS had been sent: ops must watch Omie
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert (order.billing_status, invoice.status, invoice.next_step, invoice.lease_token) == ("MANUAL", "MANUAL", "", None)
    # The step already queued (or running) with the old lease can no longer run or store its result.
    assert invoice_lease_take(invoice_id=invoice.pk, token=token) is None
