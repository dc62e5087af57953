"""Money ops read: one format (R$ 1.234,56) everywhere, and buttons that say the true reason before a
refusal does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from billing.models import CustomerAccount
from billing.tests.factories import order_in_state
from common.money import brl


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1000.5"), "R$ 1.000,50"), ("1234567.891", "R$ 1.234.567,89"), (0, "R$ 0,00"), (Decimal("-3"), "-R$ 3,00"),
    (None, "—"), ("", "—"), ("abc", "—"),
])
def test_one_money_format(value, text):
    assert brl(value) == text


@pytest.fixture
def financeiro(user_factory) -> Client:
    user = user_factory("fin", is_staff=True)
    user.groups.add(Group.objects.get(name="Financeiro"))
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client, order) -> str:
    return client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()


@pytest.mark.django_db
def test_a_paid_order_with_nothing_recorded_as_paid_offers_no_transfer_and_says_why(financeiro):
    order = order_in_state("CANCELLED", paid=True, amount_paid=Decimal("0"))
    page = _page(financeiro, order)
    url = f"/admin/orders/order/{order.pk}/acao/transfer-cc/"
    assert f'href="{url}"' not in page
    assert "Nenhum valor pago registrado neste pedido: nada a transferir." in page
    refused = financeiro.post(url, {"reason": "crédito", "amount": ""}, follow=True)
    messages = [str(m) for m in refused.context["messages"]]
    assert any("Nenhum valor pago registrado" in m for m in messages), messages
    assert not any("já foi transferido" in m for m in messages)


@pytest.mark.django_db
def test_use_cc_is_disabled_with_the_balance_when_the_account_is_empty(financeiro):
    order = order_in_state("AWAITING_PAYMENT", amount=Decimal("300.00"))
    CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=Decimal("0"))
    page = _page(financeiro, order)
    assert f'href="/admin/orders/order/{order.pk}/acao/use-cc/"' not in page
    assert "A conta corrente do cliente não tem saldo (R$ 0,00)." in page
    refused = financeiro.post(f"/admin/orders/order/{order.pk}/acao/use-cc/", {"amount": ""}, follow=True)
    assert any("Saldo insuficiente na conta corrente do cliente: R$ 0,00." in str(m) for m in refused.context["messages"])


@pytest.mark.django_db
def test_amounts_in_the_account_lists_and_the_order_page_are_in_reais(financeiro):
    order = order_in_state("CANCELLED", paid=True, amount=Decimal("1000.50"), amount_paid=Decimal("1000.50"))
    CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=Decimal("1000.50"))
    accounts = financeiro.get("/admin/billing/customeraccount/").content.decode()
    assert "R$ 1.000,50" in accounts and "1000,50" not in accounts.replace("R$ 1.000,50", "")
    page = _page(financeiro, order)
    assert "R$ 1.000,50" in page and "1000,50" not in page.replace("R$ 1.000,50", "")


@pytest.mark.django_db
def test_a_paid_order_without_the_amount_recorded_does_not_say_it_was_paid_zero(financeiro):
    order = order_in_state("CANCELLED", paid=True, amount=Decimal("640.00"), amount_paid=Decimal("0"))
    page = _page(financeiro, order)
    assert "pago R$ 0,00" not in page
    assert "R$ 640,00 · pago, mas o valor pago não foi registrado" in page
