"""The stuck-sync sweep and the per-order work lock."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from orders.models import ActionLog, Order
from orders.services import order_sync_sweep_stuck
from orders.services.locks import SYNC_LOCK_NAMESPACE, order_work_lock
from orders.statuses import SyncStatus
from testsupport.processes import wait_for

pytestmark = pytest.mark.django_db


def _order(n: int, **fields) -> Order:
    return Order.objects.create(bubble_id=f"1671702337369x48832159236732790{n}", **fields)


def _queued(redis_client, queue: str) -> list[dict]:
    return [json.loads(raw) for raw in redis_client.lrange(queue, 0, -1)]


def test_the_sweep_re_enqueues_only_overdue_pending_orders_at_their_step(redis_client):
    long_ago = timezone.now() - timedelta(minutes=10)
    not_fetched = _order(1, next_attempt_at=long_ago)
    fetched = _order(2, next_attempt_at=long_ago, source_fetched_at=long_ago)
    _order(3, next_attempt_at=timezone.now() + timedelta(minutes=20))  # waiting for a scheduled retry
    _order(4, next_attempt_at=long_ago, sync_status=SyncStatus.FAILED)
    _order(5, next_attempt_at=timezone.now())  # just enqueued, not stuck yet

    assert order_sync_sweep_stuck() == 2

    fetch = _queued(redis_client, "default")
    omie = _queued(redis_client, "omie")
    assert [m["headers"]["task"] for m in fetch] == ["orders.tasks.order_sync_fetch"]
    assert [m["headers"]["task"] for m in omie] == ["orders.tasks.omie.order_sync_omie"]
    assert fetch[0]["headers"]["argsrepr"] == f"({not_fetched.pk},)" and omie[0]["headers"]["argsrepr"] == f"({fetched.pk},)"
    assert set(ActionLog.objects.filter(action="sync_resume").values_list("order_id", flat=True)) == {not_fetched.pk, fetched.pk}

    # The next round finds nothing overdue: the claim moved their next attempt to now.
    assert order_sync_sweep_stuck() == 0


def test_the_work_lock_is_exclusive_and_dies_with_its_connection(settings):
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True)
    try:
        assert other.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_NAMESPACE, 77]).fetchone()[0]
        with order_work_lock(order_id=77) as acquired:
            assert not acquired
        other.close()  # the holder dies (a SIGKILLed worker): the database lets go as its backend exits

        def reacquired() -> bool:
            with order_work_lock(order_id=77) as acquired:
                return acquired

        wait_for(reacquired, timeout=5, interval=0.05, message="the lock outlived its connection")
        with order_work_lock(order_id=78) as acquired:
            assert acquired
    finally:
        other.close()


def test_the_sweep_fails_a_sync_that_kept_crashing_past_the_give_up_time(redis_client, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(hours=4)
    order = _order(6, next_attempt_at=long_ago, sync_started_at=long_ago)
    with django_capture_on_commit_callbacks(execute=False):
        assert order_sync_sweep_stuck() == 0
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED and "Sincronização não concluída em 180 min" in order.last_error
    assert not _queued(redis_client, "default") and not _queued(redis_client, "omie")
    from integrations.bubble.models import BubbleWriteback

    assert BubbleWriteback.objects.get(bubble_id=order.bubble_id).fields["status_pedido"] == "Erro de sincronização"

