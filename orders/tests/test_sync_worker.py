"""Acceptance scenarios of the sync (docs/contract.md#sync, docs/contract.md#bubble-writeback) with real Celery workers and a live server
serving the API and the fake Omie, Bubble and BrasilAPI."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from rest_framework_simplejwt.tokens import AccessToken

from common.api.auth import service_group_add
from orders.models import ActionLog, Order
from orders.services import order_sync_sweep_stuck
from orders.statuses import SyncStatus
from sandbox.fake_omie.models import FakeOmieCall, FakeServiceOrder
from testsupport.processes import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SYNCED, FAILED, PENDING = (s.label for s in (SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.PENDING))


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.session.post(self.base_url + path, json=body or {}, timeout=30)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=30)


@pytest.fixture
def api(live_server, user_factory):
    user = service_group_add(user_factory("bubble"))
    client = Api(live_server.url, str(AccessToken.for_user(user)))
    yield client
    client.session.close()


def bubble_status(sandbox, order_id: str) -> str | None:
    return sandbox.bubble_thing("pedido", order_id).get("status_pedido")


def status_sequence(sandbox, order_id: str) -> list[str]:
    return [p["status_pedido"] for p in sandbox.bubble_patches("pedido", order_id) if "status_pedido" in p]


def test_a_pf_and_a_pj_order_go_from_trigger_to_synced_and_bubble_shows_it(sandbox, celery_worker_process, api):
    celery_worker_process(**sandbox.worker_env())
    pf, pj = sandbox.seed(kind="PF"), sandbox.seed(kind="PJ")
    assert [api.post(f"/v1/orders/{oid}/sync-omie").status_code for oid in (pf, pj)] == [202, 202]

    wait_for(lambda: bubble_status(sandbox, pf) == bubble_status(sandbox, pj) == SYNCED, timeout=60,
             message="Bubble never showed both orders synced")
    for oid in (pf, pj):
        order = Order.objects.get(bubble_id=oid)
        assert order.sync_status == SyncStatus.SYNCED
        assert [c.param["codigo_cliente_integracao"] for c in sandbox.omie_calls("UpsertCliente")].count(order.customer_bubble_id) == 1
        assert [c.param["Cabecalho"]["cCodIntOS"] for c in sandbox.omie_calls("IncluirOS")].count(oid) == 1
        assert sandbox.bubble_thing("pedido", oid)["omie_os_numero"] == order.omie_os_number
        assert list(ActionLog.objects.filter(order=order).order_by("id").values_list("action", flat=True)) == [
            "sync_trigger", "sync_fetch", "omie_customer_upsert", "omie_os_create", "billing_decide", "sync_complete",
        ]
        assert api.get(f"/v1/orders/{oid}").json()["sync_status"]["label"] == SYNCED
    assert FakeServiceOrder.objects.count() == 2

    customer = sandbox.customer_id_of(pj)
    wait_for(lambda: "omie_cliente_id" in sandbox.bubble_thing("cliente", customer), timeout=30)
    company = sandbox.bubble_thing("cliente", customer)
    assert (company["situacao_cadastral"], company["razao_social"]) == ("ATIVA", f"Empresa {int(pj.split('x')[1])} Ltda")
    assert company["omie_cliente_id"] == str(Order.objects.get(bubble_id=pj).omie_customer_code)


def test_fifty_concurrent_triggers_create_one_customer_and_one_os(sandbox, celery_worker_process, api):
    celery_worker_process(concurrency=4, **sandbox.worker_env())
    oid = sandbox.seed()
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda _: api.post(f"/v1/orders/{oid}/sync-omie").status_code, range(50)))
    assert sorted(set(statuses)) == [200, 202] and statuses.count(202) == 1

    wait_for(lambda: Order.objects.filter(bubble_id=oid, sync_status=SyncStatus.SYNCED).exists(), timeout=60)
    wait_for(lambda: bubble_status(sandbox, oid) == SYNCED, timeout=30)
    # A few more, late: still nothing new is sent to Omie.
    assert {api.post(f"/v1/orders/{oid}/sync-omie").status_code for _ in range(5)} == {200}
    assert len(FakeOmieCall.objects.filter(call="UpsertCliente")) == 1
    assert len(FakeOmieCall.objects.filter(call="IncluirOS")) == 1
    assert ActionLog.objects.filter(order__bubble_id=oid, action="sync_trigger").count() == 55


def test_a_worker_killed_after_incluir_os_was_sent_leaves_exactly_one_os(sandbox, celery_worker_process, api):
    # The killed worker's Omie write lease must expire in seconds here, not in 60 s.
    env = sandbox.worker_env(OMIE_LEASE_SECONDS=8, OMIE_CONNECT_TIMEOUT=1, OMIE_READ_TIMEOUT=6)
    first = celery_worker_process(**env)
    oid = sandbox.seed()
    sandbox.omie.inject("slow", call="IncluirOS", seconds=4)
    assert api.post(f"/v1/orders/{oid}/sync-omie").status_code == 202

    # IncluirOS is on the wire (the marker is committed, Omie received it): kill the worker now.
    wait_for(lambda: Order.objects.filter(bubble_id=oid, omie_os_requested_at__isnull=False).exists()
             and FakeOmieCall.objects.filter(call="IncluirOS").exists(), timeout=30)
    first.kill()
    # Omie finishes creating the OS; nobody is left to read the answer.
    wait_for(lambda: FakeServiceOrder.objects.filter(c_cod_int_os=oid).exists(), timeout=30)
    order = Order.objects.get(bubble_id=oid)
    assert order.sync_status == SyncStatus.PENDING and order.omie_os_code is None

    celery_worker_process(**env)
    assert order_sync_sweep_stuck(stuck_after=timedelta(0)) == 1  # what beat does every minute
    wait_for(lambda: Order.objects.filter(bubble_id=oid, sync_status=SyncStatus.SYNCED).exists(), timeout=60,
             message="the order was not synced after the restart")
    order.refresh_from_db()
    os_row = FakeServiceOrder.objects.get(c_cod_int_os=oid)
    assert order.omie_os_code == os_row.n_cod_os
    assert FakeServiceOrder.objects.count() == 1
    assert [c.call for c in FakeOmieCall.objects.filter(call__in=["IncluirOS", "ConsultarOS"]).order_by("id")] == [
        "IncluirOS", "ConsultarOS",
    ]
    wait_for(lambda: bubble_status(sandbox, oid) == SYNCED, timeout=30)


def test_bad_document_fails_bubble_shows_why_and_retry_after_the_fix_syncs(sandbox, celery_worker_process, api):
    celery_worker_process(**sandbox.worker_env())
    oid = sandbox.seed(document="529.982.247-20")  # wrong check digits
    assert api.post(f"/v1/orders/{oid}/sync-omie").status_code == 202

    wait_for(lambda: bubble_status(sandbox, oid) == FAILED, timeout=60)
    reason = sandbox.bubble_thing("pedido", oid)["erro_integracao"]
    assert reason == "Dados inválidos no Bubble: CPF inválido: dígito verificador não confere (valor no Bubble: ***.982.247-**)."
    assert not FakeOmieCall.objects.exists()  # Omie's error budget untouched

    # Retry before fixing: fails again, same reason.
    sandbox.bubble_set("cliente", sandbox.customer_id_of(oid), documento="529.982.247-25")
    response = api.post(f"/v1/orders/{oid}/retry", {"operator": "ana@example.com"})
    assert response.status_code == 202 and response.json()["sync_status"]["code"] == "PENDING"
    wait_for(lambda: bubble_status(sandbox, oid) == SYNCED, timeout=60)
    assert sandbox.bubble_thing("pedido", oid)["erro_integracao"] == ""
    assert status_sequence(sandbox, oid)[-3:] in ([FAILED, PENDING, SYNCED], [FAILED, SYNCED])
    actions = list(ActionLog.objects.filter(order__bubble_id=oid).order_by("id").values_list("action", "outcome", "actor"))
    assert ("retry", "ok", "bubble:ana@example.com") in actions and actions[-1][:2] == ("sync_complete", "ok")


def test_bubble_down_orders_still_sync_and_bubble_gets_every_final_status_in_order(sandbox, celery_worker_process, api):
    celery_worker_process(concurrency=4, **sandbox.worker_env(
        BUBBLE_WRITEBACK_RETRY_BASE_SECONDS="0.5", BUBBLE_WRITEBACK_RETRY_MAX_SECONDS="2",
    ))
    from integrations.omie.throttle import get_throttle

    orders = [sandbox.seed(kind="PF" if i % 2 else "PJ") for i in range(6)]
    sandbox.omie.configure(latency_ms=1500)
    # No order may finish its sync (IncluirOS) before Bubble is down: a latency alone left a race that a
    # loaded machine lost (an order synced and written back while the others were still being read).
    throttle = get_throttle()
    throttle.pause("IncluirOS", seconds=30)
    for oid in orders:
        assert api.post(f"/v1/orders/{oid}/sync-omie").status_code == 202
    wait_for(lambda: Order.objects.filter(bubble_id__in=orders, source_fetched_at__isnull=False).count() == 6, timeout=60)
    sandbox.bubble_control(outage_status=503)
    assert Order.objects.filter(bubble_id__in=orders, sync_status=SyncStatus.SYNCED).count() == 0
    throttle.resume("IncluirOS")

    wait_for(lambda: Order.objects.filter(bubble_id__in=orders, sync_status=SyncStatus.SYNCED).count() == 6, timeout=90,
             message="orders did not sync locally while Bubble was down")
    assert not any(bubble_status(sandbox, oid) == SYNCED for oid in orders)

    sandbox.bubble_control(outage_status=None)
    wait_for(lambda: all(bubble_status(sandbox, oid) == SYNCED for oid in orders), timeout=90,
             message="Bubble did not get every final status after coming back")
    for oid in orders:
        order = Order.objects.get(bubble_id=oid)
        assert sandbox.bubble_thing("pedido", oid)["omie_os_numero"] == order.omie_os_number
        sequence = status_sequence(sandbox, oid)
        assert sequence[-1] == SYNCED and PENDING not in sequence[sequence.index(SYNCED):]


def test_the_sync_tasks_leave_their_results_for_the_order_timeline(sandbox, celery_worker_process, api):
    from django_celery_results.models import TaskResult

    from backoffice.timeline import order_timeline

    celery_worker_process(**sandbox.worker_env())
    oid = sandbox.seed()
    api.post(f"/v1/orders/{oid}/sync-omie")
    order = Order.objects.get(bubble_id=oid)
    wait_for(lambda: TaskResult.objects.filter(status="SUCCESS", task_name__startswith="orders.").count() == 2, timeout=60)
    tasks = {e.title for e in order_timeline(order=order) if e.source == "Tarefa"}
    assert tasks == {"Tarefa: ler o pedido e o cliente no Bubble — concluída", "Tarefa: enviar o cliente e a OS ao Omie — concluída"}


def test_an_omie_business_error_fails_with_omies_reason_and_retry_syncs(sandbox, celery_worker_process, api):
    celery_worker_process(**sandbox.worker_env())
    oid = sandbox.seed()
    sandbox.omie.inject("business", call="UpsertCliente")
    assert api.post(f"/v1/orders/{oid}/sync-omie").status_code == 202

    wait_for(lambda: bubble_status(sandbox, oid) == FAILED, timeout=60)
    reason = sandbox.bubble_thing("pedido", oid)["erro_integracao"]
    assert reason.startswith("Omie (cadastro do cliente): ") and len(reason) > len("Omie (cadastro do cliente): ")
    assert Order.objects.get(bubble_id=oid).last_error == reason
    assert not FakeOmieCall.objects.filter(call="IncluirOS").exists()

    assert api.post(f"/v1/orders/{oid}/retry", {"operator": "ana@example.com"}).status_code == 202
    wait_for(lambda: bubble_status(sandbox, oid) == SYNCED, timeout=60)
    assert FakeServiceOrder.objects.filter(c_cod_int_os=oid).count() == 1


def test_orders_reach_omie_in_the_order_they_were_triggered(sandbox, celery_worker_process, api):
    """Strict first come, first served (docs/orders.md, "Omie's line"): the orders queue while Omie's
    writes are paused; when the pause ends their tasks come back in whatever order Celery runs them,
    and UpsertCliente and IncluirOS still reach Omie in the order the orders were triggered."""
    from integrations.omie.throttle import get_throttle

    sandbox.omie.configure(latency_ms=100)
    celery_worker_process(concurrency=4, **sandbox.worker_env())
    ids = [sandbox.seed() for _ in range(10)]
    throttle = get_throttle()
    for call in ("UpsertCliente", "IncluirOS"):
        throttle.pause(call, seconds=6)
    for order_id in ids:
        assert api.post(f"/v1/orders/{order_id}/sync-omie").status_code == 202
    wait_for(lambda: Order.objects.filter(sync_status=SyncStatus.SYNCED).count() == len(ids), timeout=120,
             message="not every order synced")

    assert list(Order.objects.order_by("sync_started_at").values_list("bubble_id", flat=True)) == ids
    customers = [sandbox.customer_id_of(order_id) for order_id in ids]
    assert [c.ident for c in sandbox.omie_calls("UpsertCliente")] == customers
    assert [c.ident for c in sandbox.omie_calls("IncluirOS")] == ids
    assert throttle.line("UpsertCliente") == throttle.line("IncluirOS") == []
