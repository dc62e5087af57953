"""A NUL or a lookup the list does not have answers 400 with a reason, never 500 (second security review:
``?sync_status__exact=%00`` in the admin list, ``?q=%00``, ``?foo=bar`` and ``?created_at__gte=notadate``
in the export answered 500)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from billing.tests.factories import order_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(user_factory, tmp_path, settings) -> Client:
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    user = user_factory("financeiro", is_staff=True)
    user.groups.add(Group.objects.get(name="Financeiro"))
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", [
    "/admin/orders/order/?sync_status__exact=%00",
    "/admin/orders/order/?q=%00",
    "/admin/orders/order/?%00=1",
    "/admin/billing/invoice/?status__exact=%00",
    "/admin/orders/order/exportar/?q=%00&formato=csv",
    "/admin/orders/order/exportar/?billing_status__exact=%00",
])
def test_a_nul_in_the_query_string_is_400_with_a_portuguese_reason(finance, url):
    order_in_state("SCHEDULED")
    response = finance.get(url)
    assert response.status_code == 400
    assert "caractere nulo" in response.content.decode()


def test_a_nul_under_the_api_is_400_in_the_error_envelope(auth_client):
    response = auth_client.get("/v1/orders/1671702337369x488321592367327900?x=%00")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error" and "caractere nulo" in response.json()["error"]["message"]


@pytest.mark.parametrize("query", ["foo=bar", "created_at__gte=notadate", "billing_status__exact=NOPE&amount__gt=abc"])
@pytest.mark.parametrize("model", ["orders/order", "billing/invoice"])
def test_an_export_with_a_lookup_the_list_does_not_have_is_400_with_the_reason(finance, query, model):
    order_in_state("ISSUED")
    response = finance.get(f"/admin/{model}/exportar/?{query}&formato=csv")
    assert response.status_code == 400
    assert "Filtro inválido para exportar" in response.content.decode()


def test_the_list_itself_still_answers_a_bad_lookup_with_its_own_notice(finance):
    response = finance.get("/admin/orders/order/?created_at__gte=notadate")
    assert response.status_code == 302 and "e=1" in response["Location"]
