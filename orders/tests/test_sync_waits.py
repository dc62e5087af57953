"""How long a sync waits before its next try (docs/contract.md#sync: retried with backoff and jitter, bounded)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.omie.errors import OmieNotNow, OmieTransientError
from orders.models import Order
from orders.services.sync_state import order_sync_error
from orders.statuses import SyncStatus

pytestmark = pytest.mark.django_db


def _order(n: int, **fields) -> Order:
    return Order.objects.create(bubble_id=f"1671702337369x48832159236732790{n}", **fields)


def test_an_order_waiting_for_its_turn_at_omie_waits_about_as_long_as_the_orders_ahead(settings):
    """With a backlog the throttle's short "lease busy" polls become a wait by place in line: oldest first."""
    settings.ORDERS_OMIE_TURN_SECONDS = 0.5
    start = timezone.now() - timedelta(minutes=1)
    orders = [_order(n, source_fetched_at=start + timedelta(seconds=n), sync_started_at=start) for n in range(7)]
    busy = OmieNotNow("IncluirOS: aguardando", retry_after=0.3, reason="concurrency")

    first = order_sync_error(order_id=orders[0].pk, exc=busy, actor="t", action="omie_os_create", what="Omie")
    last = order_sync_error(order_id=orders[6].pk, exc=busy, actor="t", action="omie_os_create", what="Omie")
    assert first.retry_in < 0.4  # nobody ahead: the throttle's own short retry
    assert 6 * 0.5 * 0.7 <= last.retry_in <= 6 * 0.5 + 0.1  # six orders ahead
    banned = OmieNotNow("IncluirOS: bloqueado", retry_after=900, reason="banned")
    assert order_sync_error(order_id=orders[6].pk, exc=banned, actor="t", action="omie_os_create", what="Omie").retry_in >= 900
    for order in orders:
        order.refresh_from_db()
        assert order.sync_status == SyncStatus.PENDING and order.sync_attempts == 0



def test_transient_failures_back_off_exponentially_with_jitter_and_count(settings):
    settings.ORDERS_SYNC_BACKOFF_BASE_SECONDS = 2.0
    order = _order(1, sync_started_at=timezone.now())
    error = OmieTransientError("Tempo esgotado", call="IncluirOS")
    waits = [order_sync_error(order_id=order.pk, exc=error, actor="t", action="omie_os_create", what="Omie").retry_in
             for _ in range(4)]
    assert [1.0 <= waits[0] <= 2.0, 2.0 <= waits[1] <= 4.0, 4.0 <= waits[2] <= 8.0, 8.0 <= waits[3] <= 16.0] == [True] * 4
    order.refresh_from_db()
    assert order.sync_attempts == 4 and order.next_attempt_at > timezone.now()


def test_a_wait_in_omies_line_is_retried_at_the_throttles_time_exactly(settings):
    """The line's countdown is timed by the order's place (docs/orders.md, "Omie's line"): no jitter, no
    recount of the orders ahead, no attempt spent."""
    settings.ORDERS_OMIE_TURN_SECONDS = 5.0
    start = timezone.now() - timedelta(minutes=1)
    orders = [_order(n, source_fetched_at=start + timedelta(seconds=n), sync_started_at=start) for n in range(4)]
    turn = OmieNotNow("IncluirOS: aguardando a vez", retry_after=12.5, reason="turn")
    waits = {order_sync_error(order_id=orders[3].pk, exc=turn, actor="t", action="omie_os_create", what="Omie").retry_in
             for _ in range(3)}
    assert waits == {12.5}
    orders[3].refresh_from_db()
    assert orders[3].sync_status == SyncStatus.PENDING and orders[3].sync_attempts == 0


def test_an_orders_place_in_omies_line_is_its_trigger_time():
    from orders.services.omie_line import omie_line_place

    now = timezone.now()
    early, late = _order(1, sync_started_at=now - timedelta(seconds=1)), _order(2, sync_started_at=now)
    assert omie_line_place(early).score < omie_line_place(late).score
    assert omie_line_place(early).ticket == f"order:{early.pk:012d}" == omie_line_place(early).ticket
