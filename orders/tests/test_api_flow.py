"""The order endpoints with valid input (docs/contract.md#http-api): trigger, state, retry, replay."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from integrations.bubble.models import BubbleWriteback
from orders.models import ActionLog, Order
from orders.statuses import SyncStatus

pytestmark = pytest.mark.django_db

BUBBLE_ID = "1671702337369x488321592367327900"


def _queued_tasks(redis_client, queue: str = "default") -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in redis_client.lrange(queue, 0, -1)]


def _order_writebacks(bubble_id: str) -> dict:
    rows = BubbleWriteback.objects.filter(thing="order", bubble_id=bubble_id).order_by("id")
    return {k: v for row in rows for k, v in row.fields.items()}


def test_the_first_trigger_is_202_and_enqueues_after_commit_the_next_ones_are_200(
    auth_client, redis_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json")
        assert not _queued_tasks(redis_client)  # nothing is published before the commit
    for callback in callbacks:
        callback()
    assert first.status_code == 202
    body = first.json()
    assert body["id"] == BUBBLE_ID
    assert body["sync_status"] == {"code": "PENDING", "label": "Aguardando sincronização"}
    assert body["billing_status"] is None and body["omie"] == {"codigo_cliente_omie": None, "n_cod_os": None, "c_num_os": None}
    assert _queued_tasks(redis_client) == ["orders.tasks.order_sync_fetch"]
    assert _order_writebacks(BUBBLE_ID) == {"status_pedido": "Aguardando sincronização", "erro_integracao": ""}

    with django_capture_on_commit_callbacks(execute=True):
        again = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", data=b"", content_type="application/json")
    assert again.status_code == 200 and again.json()["sync_status"]["code"] == "PENDING"
    assert Order.objects.count() == 1
    assert _queued_tasks(redis_client) == ["orders.tasks.order_sync_fetch"]  # nothing more was enqueued
    assert list(ActionLog.objects.order_by("id").values_list("action", "outcome", "actor")) == [
        ("sync_trigger", "ok", "bubble"), ("sync_trigger", "ok", "bubble")
    ]


def test_a_trigger_replayed_by_its_idempotency_key_is_the_same_202(auth_client, redis_client):
    first = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json", HTTP_IDEMPOTENCY_KEY="pedido-criado-1")
    replay = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json", HTTP_IDEMPOTENCY_KEY="pedido-criado-1")
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert ActionLog.objects.filter(action="sync_trigger").count() == 1


def test_get_shows_both_statuses_ids_billing_payment_and_recent_actions(auth_client):
    order = Order.objects.create(
        bubble_id=BUBBLE_ID, sync_status=SyncStatus.SYNCED, billing_status="SCHEDULED", billing_trigger="DAY_25",
        omie_customer_code=2400000001, omie_os_code=3100000001, omie_os_number="000000000000001", amount="1234.50",
    )
    ActionLog.objects.create(actor="system:x", action="sync_complete", outcome="ok", order=order, order_bubble_id=BUBBLE_ID)
    body = auth_client.get(f"/v1/orders/{BUBBLE_ID}").json()
    assert body["sync_status"] == {"code": "SYNCED", "label": "Sincronizado"}
    assert body["billing_status"] == {"code": "SCHEDULED", "label": "Agendado dia 25"}
    assert body["omie"] == {"codigo_cliente_omie": 2400000001, "n_cod_os": 3100000001, "c_num_os": "000000000000001"}
    assert body["amount"] == "1234.50" and body["billing"]["trigger"] == {"code": "DAY_25", "label": "Dia de faturamento"}
    assert body["payment"]["status"] == "pending" and body["invoice"] is None
    assert [a["action"] for a in body["recent_actions"]] == ["sync_complete"]


def test_retry_of_a_failed_sync_reads_bubble_again_and_is_202(auth_client, redis_client, django_capture_on_commit_callbacks):
    Order.objects.create(
        bubble_id=BUBBLE_ID, sync_status=SyncStatus.FAILED, last_error="Dados inválidos", sync_attempts=3,
        source_fetched_at="2026-01-01T00:00:00Z",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/retry", {"operator": "ana@example.com"}, format="json")
    assert response.status_code == 202
    assert response.json()["sync_status"]["code"] == "PENDING"
    order = Order.objects.get()
    assert (order.sync_status, order.last_error, order.sync_attempts, order.source_fetched_at) == ("PENDING", "", 0, None)
    assert _queued_tasks(redis_client) == ["orders.tasks.order_sync_fetch"]
    assert _order_writebacks(BUBBLE_ID) == {"status_pedido": "Aguardando sincronização", "erro_integracao": ""}
    entry = ActionLog.objects.get()
    assert (entry.actor, entry.action, entry.outcome, entry.payload) == (
        "bubble:ana@example.com", "retry", "ok", {"operator": "ana@example.com"}
    )


def test_retry_from_a_state_without_failure_is_409_naming_the_state_and_logged_once(auth_client, redis_client):
    Order.objects.create(bubble_id=BUBBLE_ID, sync_status=SyncStatus.SYNCED, billing_status="SCHEDULED")
    response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/retry", {"operator": "ana@example.com"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_state" and "'Sincronizado'" in error["message"] and "'Agendado dia 25'" in error["message"]
    assert error["details"]["sync_status"] == "SYNCED"
    assert Order.objects.get().sync_status == SyncStatus.SYNCED and not _queued_tasks(redis_client)
    entry = ActionLog.objects.get()
    assert (entry.action, entry.outcome, entry.actor) == ("retry", "rejected", "bubble:ana@example.com")


def test_retry_of_an_unknown_order_is_404_and_logged(auth_client):
    response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/retry", {"operator": "ana@example.com"}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    entry = ActionLog.objects.get()
    assert (entry.order_id, entry.order_bubble_id, entry.outcome) == (None, BUBBLE_ID, "rejected")


def test_retry_resends_dead_writebacks(auth_client):
    order = Order.objects.create(bubble_id=BUBBLE_ID, sync_status=SyncStatus.SYNCED)
    dead = BubbleWriteback.objects.create(
        thing="order", bubble_id=BUBBLE_ID, fields={"status_pedido": "Sincronizado"}, versions={"status_pedido": 1},
        status=BubbleWriteback.Status.DEAD, order_id=order.pk, last_error="HTTP 503", give_up_at=timezone.now(),
    )
    response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/retry", {"operator": "ana@example.com"}, format="json")
    assert response.status_code == 202 and "reenviada" in response.json()["message"]
    dead.refresh_from_db()
    assert dead.status == BubbleWriteback.Status.PENDING
    assert ActionLog.objects.get().outcome == "ok"


def test_the_first_trigger_answers_without_looking_for_an_invoice_it_cannot_have(auth_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json")
    assert response.status_code == 202 and response.json()["invoice"] is None
    assert not [q["sql"] for q in queries.captured_queries if "billing_invoice" in q["sql"]]
    # The guarantees the trigger keeps: the order row, its outbox row and its action-log entry.
    assert Order.objects.filter(bubble_id=BUBBLE_ID).exists()
    assert _order_writebacks(BUBBLE_ID)["status_pedido"] == "Aguardando sincronização"
    assert ActionLog.objects.filter(order__bubble_id=BUBBLE_ID, action="sync_trigger").count() == 1


@pytest.mark.django_db(transaction=True)  # the service's own transaction is then BEGIN/COMMIT, not a savepoint
def test_a_trigger_spends_no_savepoint_and_no_outbox_read_back_and_a_repeat_writes_only_its_log(auth_client):
    """The statement budget of the hot path (bench/trigger_profile.py): every guarantee, nothing more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as new:
        assert auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json").status_code == 202
    statements = [q["sql"] for q in new.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    assert not [sql for sql in statements if sql.lstrip().startswith("SELECT") and "bubble_bubblewriteback" in sql]
    assert [sql for sql in statements if "ON CONFLICT" in sql and "orders_order" in sql]
    with CaptureQueriesContext(connection) as repeat:
        assert auth_client.post(f"/v1/orders/{BUBBLE_ID}/sync-omie", {}, format="json").status_code == 200
    writes = [q["sql"] for q in repeat.captured_queries if not q["sql"].lstrip().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "orders_actionlog"')
    # Billing never started, so there is no invoice to look for (billing/tests/test_retry_api.py: one that has one shows it).
    assert not [q["sql"] for q in repeat.captured_queries if "billing_invoice" in q["sql"]]
    assert ActionLog.objects.filter(order__bubble_id=BUBBLE_ID, action="sync_trigger").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_trigger_racing_one_that_inserts_first_waits_for_it_and_never_enqueues_a_second_sync(redis_client):
    """Both miss the row in their SELECT; the unique index makes the second wait for the first's commit,
    then it reads the committed order, logs itself as a repeat and enqueues nothing."""
    import threading

    from django.db import connection, transaction

    from orders.services import order_sync_trigger

    inserted, commit = threading.Event(), threading.Event()
    results: dict[str, tuple[Order, bool]] = {}

    def first() -> None:
        with transaction.atomic():
            results["first"] = order_sync_trigger(bubble_id=BUBBLE_ID, actor="bubble")
            inserted.set()
            commit.wait(10)
        connection.close()

    def second() -> None:
        results["second"] = order_sync_trigger(bubble_id=BUBBLE_ID, actor="bubble")
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inserted.wait(10)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive()  # blocked on the first one's uncommitted row
    commit.set()
    for thread in threads:
        thread.join(10)
    assert results["first"][1] is True and results["second"][1] is False
    assert results["first"][0].pk == results["second"][0].pk
    assert Order.objects.count() == 1
    assert _queued_tasks(redis_client) == ["orders.tasks.order_sync_fetch"]
    assert BubbleWriteback.objects.filter(thing="order", bubble_id=BUBBLE_ID).count() == 1
    messages = list(ActionLog.objects.order_by("id").values_list("message", flat=True))
    assert len(messages) == 2 and messages[0].startswith("Pedido registrado") and messages[1].startswith("Pedido já registrado")
