"""The outbox under concurrency: many writers, many deliverers, a flaky Bubble; and a real worker.

What must hold (docs/contract.md#bubble-writeback): Bubble ends with the newest value of every field, the values of one
thing arrive in the order they were decided, nothing is lost, and two PATCHes of one thing never
overlap in time.
"""

import itertools
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_deliver_due, writeback_enqueue
from testsupport.processes import wait_for

THINGS = ["1700000000001x100000000000000001", "1700000000002x100000000000000002", "1700000000003x100000000000000003"]
WRITES_PER_THING = 40
KEYS = 5

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _assert_bubble_got_everything_in_order(fake_bubble, decided):
    for bubble_id in THINGS:
        history = decided[bubble_id]
        final = fake_bubble.thing("order", bubble_id)
        # newest value of every key, none lost
        for key in range(KEYS):
            last = max(seq for seq in history if seq % KEYS == key)
            assert final[f"k{key}"] == last
        assert final["seq"] == history[-1]
        patches = fake_bubble.patches("order", bubble_id)
        seqs = [p.body["seq"] for p in patches]
        assert seqs == sorted(seqs), f"out of order for {bubble_id}: {seqs}"
        assert len(seqs) == len(set(seqs)), "a value was sent twice after a newer one"
        # one PATCH at a time per thing
        for before, after in itertools.pairwise(patches):
            assert before.received_at <= after.started_at, f"overlapping PATCHes for {bubble_id}"
    assert set(BubbleWriteback.objects.values_list("status", flat=True)) == {BubbleWriteback.Status.DONE}


def test_many_writers_and_deliverers_against_a_flaky_bubble_keep_order_and_lose_nothing(fake_bubble, settings):
    settings.BUBBLE_WRITEBACK_RETRY_BASE_SECONDS = 0.05
    settings.BUBBLE_WRITEBACK_RETRY_MAX_SECONDS = 0.2
    settings.BUBBLE_WRITEBACK_KICK_MAX_SECONDS = 0  # no Celery here: deliverer threads do the work
    for bubble_id in THINGS:
        fake_bubble.put_order(bubble_id, cliente="c", valor_total=Decimal("1.00"))
    fake_bubble.control(outage_status=503, outage_calls_left=15, latency_ms=5)

    decided: dict[str, list[int]] = {b: [] for b in THINGS}
    counter = iter(range(1, 10**6))
    lock = threading.Lock()
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(bubble_id: str) -> None:
        try:
            for _ in range(WRITES_PER_THING):
                with transaction.atomic():
                    # The caller's own lock on its business row (here: an advisory lock per thing)
                    # decides the order of its changes; the outbox must keep that order.
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [bubble_id])
                    with lock:
                        seq = next(counter)
                    writeback_enqueue(thing="order", bubble_id=bubble_id, fields={"seq": seq, f"k{seq % KEYS}": seq})
                    decided[bubble_id].append(seq)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def deliverer() -> None:
        try:
            while True:
                idle = writers_done.is_set()
                result = writeback_deliver_due(time_budget=1.0)
                pending = BubbleWriteback.objects.exclude(status=BubbleWriteback.Status.DONE).exists()
                if idle and not pending:
                    return
                if not result.delivered:
                    time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(b,)) for b in THINGS for _ in range(2)]
    deliverers = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in writers + deliverers:
        thread.start()
    for thread in writers:
        thread.join(120)
    writers_done.set()
    for thread in deliverers:
        thread.join(120)

    assert not errors, errors
    for bubble_id in THINGS:
        assert decided[bubble_id] == sorted(decided[bubble_id])
        assert len(decided[bubble_id]) == 2 * WRITES_PER_THING
    _assert_bubble_got_everything_in_order(fake_bubble, decided)
    # coalescing did its job: far fewer PATCHes than decisions
    assert len(fake_bubble.patches()) < len(THINGS) * 2 * WRITES_PER_THING


def test_a_real_worker_delivers_everything_after_a_bubble_outage(fake_bubble, celery_worker_process):
    for bubble_id in THINGS:
        fake_bubble.put_order(bubble_id, cliente="c", valor_total=Decimal("1.00"))
    # Bubble answers 503 to the next 8 calls; the worker retries with its (short) backoff.
    fake_bubble.control(outage_status=503, outage_calls_left=8)
    celery_worker_process(
        queues="bubble", concurrency=3,
        BUBBLE_WRITEBACK_RETRY_BASE_SECONDS="0.2", BUBBLE_WRITEBACK_RETRY_MAX_SECONDS="1", **fake_bubble.env,
    )

    decided: dict[str, list[int]] = {b: [] for b in THINGS}
    seq = 0
    for round_ in range(10):
        for bubble_id in THINGS:
            seq += 1
            with transaction.atomic():
                writeback_enqueue(thing="order", bubble_id=bubble_id, fields={"seq": seq, f"k{seq % KEYS}": seq}, order_id=round_)
            decided[bubble_id].append(seq)

    wait_for(
        lambda: not BubbleWriteback.objects.exclude(status=BubbleWriteback.Status.DONE).exists()
        and all(fake_bubble.thing("order", b).get("seq") == decided[b][-1] for b in THINGS),
        timeout=60,
        message="the worker did not deliver every writeback",
    )
    assert fake_bubble.calls() > 8  # the outage really happened and was ridden out
    for bubble_id in THINGS:
        for key in range(KEYS):
            assert f"k{key}" in fake_bubble.thing("order", bubble_id)
    _assert_bubble_got_everything_in_order(fake_bubble, {b: v for b, v in decided.items()})
