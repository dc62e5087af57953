"""The admin's big lists on a million orders: a count that stops early, and a name search on its trigram index."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.paginator import EstimatedCountPaginator
from backoffice.search import order_search_q
from orders.models import Order

pytestmark = pytest.mark.django_db


def _orders(count: int) -> None:
    Order.objects.bulk_create([
        Order(bubble_id=f"{1671702337000 + n}x{488321592367327000 + n}", customer_name=f"Cliente Quaresma {n}", customer_kind="PF",
              customer_email=f"cliente{n}@example.com", amount=Decimal("10.00"))
        for n in range(count)
    ])


class SmallLimit(EstimatedCountPaginator):
    exact_up_to = 10


def _count_queries(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_list_shorter_than_the_limit_is_counted_exactly():
    _orders(8)
    paginator = SmallLimit(Order.objects.order_by("-created_at"), 5)
    assert paginator.count == 8
    assert paginator.estimated is False
    assert paginator.num_pages == 2


def test_a_list_longer_than_the_limit_is_never_counted_to_its_end():
    _orders(25)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    with CaptureQueriesContext(connection) as ctx:
        paginator = SmallLimit(Order.objects.order_by("-created_at"), 5)
        count = paginator.count
    assert paginator.estimated is True
    assert count > 10  # the planner's estimate, never below the exact limit + 1
    counts = _count_queries(ctx)
    assert counts and all("LIMIT 11" in sql for sql in counts), counts
    assert any(q["sql"].startswith("EXPLAIN") for q in ctx.captured_queries)


def test_a_filter_with_few_rows_on_a_long_table_is_exact():
    _orders(25)
    paginator = SmallLimit(Order.objects.filter(customer_name__icontains="Quaresma 1"), 5)  # 1, 10…19
    assert paginator.count == 11 or paginator.estimated  # 11 rows: just above the limit
    paginator = SmallLimit(Order.objects.filter(customer_name__icontains="Quaresma 2"), 5)  # 2, 20…24
    assert (paginator.count, paginator.estimated) == (6, False)


def test_the_order_list_uses_the_estimating_paginator(client, user_factory):
    from django.contrib.auth.models import Permission

    user = user_factory("ops-paginas", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(user)
    _orders(3)
    response = client.get("/admin/orders/order/")
    assert response.status_code == 200
    assert isinstance(response.context["cl"].paginator, EstimatedCountPaginator)
    assert response.context["cl"].result_count == 3


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Sequential scans priced out: the plan shows whether an index CAN answer the query (on a
        # tiny test table the planner would rightly prefer reading it all).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_name_search_is_answered_by_the_trigram_index_not_a_scan():
    _orders(30)
    plan = _plan(Order.objects.filter(order_search_q("quaresma 17")).order_by())
    assert "order_name_trgm_idx" in plan, plan


def test_an_email_search_is_answered_by_its_index():
    _orders(30)
    plan = _plan(Order.objects.filter(order_search_q("CLIENTE7@example.com")).order_by())
    assert "order_email_upper_idx" in plan, plan


def test_a_deep_page_reads_the_skipped_ids_only_and_keeps_the_order(monkeypatch):
    from backoffice import paginator as module

    monkeypatch.setattr(module, "IDS_FIRST_FROM_OFFSET", 5)
    _orders(23)
    queryset = Order.objects.order_by("-created_at", "-id")
    expected = list(queryset.values_list("pk", flat=True)[10:15])
    with CaptureQueriesContext(connection) as ctx:
        page = EstimatedCountPaginator(queryset, 5).page(3)
    assert [o.pk for o in page.object_list] == expected
    page_queries = [q["sql"] for q in ctx.captured_queries if "OFFSET 10" in q["sql"]]
    assert len(page_queries) == 1 and page_queries[0].startswith('SELECT "orders_order"."id" AS "pk" FROM'), page_queries
