"""The order list: a bounded number of queries whatever the number of rows, and a search box that
recognises what ops paste into it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order

pytestmark = pytest.mark.django_db

# session, user, user permissions, group permissions, COUNT, the page's rows, the page's NF numbers
LIST_QUERIES = 7


def _order(n: int, **fields: object) -> Order:
    defaults: dict[str, object] = {
        "bubble_id": f"{1671702337000 + n}x{488321592367327000 + n}",
        "customer_bubble_id": f"{1600000000000 + n}x{100000000000000000 + n}",
        "customer_name": f"Cliente {n}",
        "customer_kind": "PF",
        "document": f"{39053344700 + n:011d}",
        "amount": Decimal("150.00"),
    }
    return Order.objects.create(**{**defaults, **fields})


def _variety(start: int, count: int) -> None:
    states = [
        {"sync_status": "FAILED", "last_error": "CPF inválido: confira o cadastro do cliente no Bubble."},
        {"sync_status": "SYNCED", "billing_status": "SCHEDULED", "billing_trigger": "DAY_25", "customer_kind": "PJ"},
        {"sync_status": "SYNCED", "billing_status": "ON_HOLD", "hold_reason": "AMOUNT", "billing_trigger": "DAY_25"},
        {"sync_status": "SYNCED", "billing_status": "ISSUED", "payment_status": "paid", "billing_trigger": "IMMEDIATE",
         "payment_flag": "Chargeback recebido em 10/11"},
        {"sync_status": "PENDING"},
    ]
    for n in range(start, start + count):
        _order(n, omie_os_number=str(5000 + n), **states[n % len(states)])


def _list_queries(client, url: str = "/admin/orders/order/") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.fixture
def ops_client(client, user_factory):
    from django.contrib.auth.models import Permission

    user = user_factory("ops-lista", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(user)
    return client


def test_the_order_list_runs_the_same_few_queries_for_3_or_50_orders(ops_client):
    _variety(0, 3)
    few, html = _list_queries(ops_client)
    assert html.count('class="field-amount_display"') == 3

    _variety(3, 47)
    many, html = _list_queries(ops_client)
    assert html.count('class="field-amount_display"') == 50
    assert few == many == LIST_QUERIES


@pytest.mark.parametrize(
    "url",
    ["?sync_status__exact=FAILED", "?retido=sim", "?billing_status__exact=SCHEDULED&customer_kind__exact=PJ", "?q=Cliente", "?o=-2"],
)
def test_filters_searches_and_sorting_do_not_add_queries_per_row(ops_client, url):
    _variety(0, 30)
    count, _ = _list_queries(ops_client, "/admin/orders/order/" + url)
    assert count == LIST_QUERIES


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("390.533.447-05", {1}),  # CPF as printed
        ("39053344705", {1}),
        ("11.222.333/0001-81", {2}),  # CNPJ as printed
        ("12.ABC.345/01DE-35", {3}),  # alphanumeric CNPJ, typed in lower or upper case
        ("12.abc.345/01de-35", {3}),
        ("1671702337001x488321592367327001", {1}),  # the order's Bubble id
        ("1600000000002x100000000000000002", {2}),  # the customer's Bubble id
        ("5003", {3}),  # OS number
        ("cliente2@Example.com", {2}),
        ("silva maria", {1}),  # every word, any order, any case
        ("Ninguém", set()),
    ],
)
def test_the_search_box_recognises_what_ops_paste(ops_client, query, expected):
    _order(1, document="39053344705", customer_name="Maria da Silva", omie_os_number="5001")
    _order(2, document="11222333000181", customer_kind="PJ", customer_email="cliente2@example.com", omie_os_number="5002")
    _order(3, document="12ABC34501DE35", customer_kind="PJ", omie_os_number="5003")
    response = ops_client.get("/admin/orders/order/", {"q": query})
    assert response.status_code == 200
    found = {o.pk for o in response.context["cl"].result_list}
    assert found == {Order.objects.get(bubble_id=f"{1671702337000 + n}x{488321592367327000 + n}").pk for n in expected}
