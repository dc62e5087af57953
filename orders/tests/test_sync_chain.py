"""The sync chain's one decision: which step an order needs next."""

from __future__ import annotations

from django.utils import timezone

from orders.models import Order
from orders.services.sync_chain import FETCH, OMIE, order_sync_next_step
from orders.statuses import SyncStatus


def test_it_reads_bubble_first_then_calls_omie_and_runs_nothing_once_the_order_left_pending():
    order = Order(bubble_id="1700000000000x1", sync_status=SyncStatus.PENDING)
    assert order_sync_next_step(order) == FETCH
    order.source_fetched_at = timezone.now()
    assert order_sync_next_step(order) == OMIE
    for ended in (SyncStatus.SYNCED, SyncStatus.FAILED):
        order.sync_status = ended
        assert order_sync_next_step(order) is None


def test_it_reads_bubble_again_after_a_retry_cleared_what_was_fetched():
    order = Order(bubble_id="1700000000000x2", sync_status=SyncStatus.PENDING, source_fetched_at=None, omie_customer_code=7)
    assert order_sync_next_step(order) == FETCH
