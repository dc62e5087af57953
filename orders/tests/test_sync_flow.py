"""The sync flow (docs/contract.md#sync) step by step, in this process, against the fakes over real HTTP.

The tasks are thin; here their services run directly so each outcome can be asserted. The
real-worker scenarios (crash, concurrency, outages) are in test_sync_worker.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import ActionLog, Order
from orders.services import order_sync_fetch, order_sync_next_step, order_sync_omie, order_sync_trigger
from orders.services.sync_chain import OMIE
from orders.services.sync_state import SyncOutcome
from orders.statuses import BillingStatus, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)


def trigger(bubble_id: str) -> Order:
    order, created = order_sync_trigger(bubble_id=bubble_id, actor="bubble")
    assert created
    return order


def run(order: Order) -> SyncOutcome:
    """Both steps, as the tasks chain them, until one asks to be retried or the sync ends."""
    outcome = order_sync_fetch(order_id=order.pk)
    if outcome.go_on and order_sync_next_step(Order.objects.get(pk=order.pk)) == OMIE:
        outcome = order_sync_omie(order_id=order.pk)
    return outcome


def story(order: Order) -> list[tuple[str, str]]:
    return list(ActionLog.objects.filter(order=order).order_by("id").values_list("action", "outcome"))


def test_a_pf_order_is_synced_once_with_its_ids_stored_and_billing_decided(sandbox):
    order = trigger(sandbox.seed(kind="PF", payment_status="pending"))
    assert run(order) == SyncOutcome.done()

    order.refresh_from_db()
    assert (order.sync_status, order.last_error) == (SyncStatus.SYNCED, ""), order.last_error
    assert order.customer_kind == "PF" and str(order.amount) == "150.00"
    assert order.omie_customer_code and order.omie_os_code and order.omie_os_number
    assert order.billing_status == BillingStatus.AWAITING_PAYMENT  # the billing decision ran
    assert len(sandbox.omie_calls("UpsertCliente")) == 1 and len(sandbox.omie_calls("IncluirOS")) == 1
    assert not sandbox.omie.calls("ConsultarOS")  # nothing was in doubt, nothing was consulted
    assert story(order) == [
        ("sync_trigger", "ok"), ("sync_fetch", "ok"), ("omie_customer_upsert", "ok"), ("omie_os_create", "ok"),
        ("billing_decide", "ok"), ("sync_complete", "ok"),
    ]
    # Running the steps again changes nothing and calls nobody.
    assert run(order) == SyncOutcome.done()
    assert len(sandbox.omie.calls()) == 2


def test_a_pj_order_gets_the_company_data_from_brasilapi_and_writes_it_back(sandbox):
    order = trigger(sandbox.seed(kind="PJ", n=501))
    run(order)
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.SYNCED
    assert order.customer_kind == "PJ" and order.cnpj_status == "ATIVA" and order.customer_name == "Empresa 501 Ltda"
    assert order.billing_status == BillingStatus.SCHEDULED
    sent = sandbox.omie_calls("UpsertCliente")[0].param
    assert sent["razao_social"] == "Empresa 501 Ltda" and sent["codigo_cliente_integracao"] == order.customer_bubble_id
    from integrations.bubble.models import BubbleWriteback

    customer_rows = BubbleWriteback.objects.filter(thing="customer", bubble_id=order.customer_bubble_id)
    fields = {k: v for row in customer_rows for k, v in row.fields.items()}
    assert fields["razao_social"] == "Empresa 501 Ltda" and fields["situacao_cadastral"] == "ATIVA"
    assert fields["omie_cliente_id"] == str(order.omie_customer_code)


def test_bad_data_in_bubble_fails_at_once_without_calling_omie(sandbox):
    order = trigger(sandbox.seed(document="123.456.789-00", email="não-é-email"))
    assert run(order) == SyncOutcome.done()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED
    assert order.last_error.startswith("Dados inválidos no Bubble: CPF inválido")
    assert "e-mail do cliente ausente ou inválido" in order.last_error
    assert sandbox.omie.calls() == []
    assert story(order)[-1] == ("sync_fetch", "error")


def test_a_failed_order_keeps_what_bubble_said_and_names_the_value_masked(sandbox):
    order = trigger(sandbox.seed(document="529.982.247-20", nome="Joana Bubble"))
    run(order)
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED
    assert (order.customer_name, order.document, order.amount) == ("Joana Bubble", "52998224720", Decimal("150.00"))
    assert order.customer_bubble_id and order.service_description
    assert "(valor no Bubble: ***.982.247-**)" in order.last_error and "52998224720" not in order.last_error


def test_a_cnpj_the_receita_does_not_know_fails_naming_it_masked_with_the_customer_stored(sandbox, settings):
    from sandbox.fake_brasilapi.models import FakeCompany

    settings.BRASILAPI_NOT_FOUND_RETRIES = 0
    order = trigger(sandbox.seed(kind="PJ", n=777, nome="Empresa Sumida Ltda"))
    FakeCompany.objects.all().delete()
    run(order)
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED
    masked = f"**.{order.document[2:5]}.{order.document[5:8]}/{order.document[8:12]}-**"
    assert order.last_error == f"BrasilAPI (consulta do CNPJ): CNPJ não encontrado na Receita Federal (CNPJ {masked})"
    assert order.customer_name == "Empresa Sumida Ltda" and order.customer_kind == "PJ"


def test_brasilapi_false_404s_are_neutral_retries_with_one_counter(sandbox, settings):
    from sandbox.fake_brasilapi.models import FakeCompany

    settings.BRASILAPI_NOT_FOUND_RETRIES = 3
    order = trigger(sandbox.seed(kind="PJ", n=778))
    settings.BRASILAPI_RATE_PER_SECOND = 1000.0
    FakeCompany.objects.update(false_404_left=2)
    for _ in range(2):
        outcome = run(order)
        assert outcome.retry_in is not None and outcome.retry_in > 0
    last = run(order)
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.SYNCED and order.sync_attempts == 0, (last, story(order))
    retries = ActionLog.objects.filter(order=order, outcome="retry").order_by("id")
    assert [e.message.count("tentativa") for e in retries] == [1, 1]  # one counter per message
    assert "tentativa 1 de 4" in retries[0].message and "tentativa 2 de 4" in retries[1].message
    assert not ActionLog.objects.filter(order=order, outcome="error").exists()


def test_an_order_missing_in_bubble_fails_with_a_portuguese_reason(sandbox):
    order = trigger("1671702337369x999999999999999999")
    run(order)
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED and order.last_error.startswith("Bubble (leitura do pedido):")


def test_omie_business_error_fails_the_sync_with_omies_message(sandbox):
    order = trigger(sandbox.seed())
    sandbox.omie.inject("business", call="UpsertCliente")
    assert run(order) == SyncOutcome.done()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED
    assert order.last_error.startswith("Omie (cadastro do cliente):")
    assert order.omie_os_requested_at is None and not sandbox.omie.calls("IncluirOS")


def test_a_transient_failure_is_retried_later_and_counted(sandbox):
    order = trigger(sandbox.seed())
    sandbox.omie.inject("broken_response", call="IncluirOS")
    outcome = run(order)
    assert outcome.retry_in is not None and outcome.retry_in > 0
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.PENDING and order.sync_attempts == 1
    assert order.next_attempt_at > timezone.now()
    assert order.omie_customer_code  # stored at once: the retry does not send it again
    assert story(order)[-1] == ("omie_os_create", "error")

    # The retry: the earlier IncluirOS may have happened, so Omie is asked first.
    assert order_sync_omie(order_id=order.pk) == SyncOutcome.done()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.SYNCED
    assert [c.call for c in sandbox.omie.calls()] == ["UpsertCliente", "IncluirOS", "ConsultarOS", "IncluirOS"]


def test_transient_failures_give_up_after_the_bound_with_a_message(sandbox, settings):
    settings.ORDERS_SYNC_MAX_ATTEMPTS = 2
    order = trigger(sandbox.seed())
    sandbox.omie.inject("broken_response", call="UpsertCliente", times=5)
    assert run(order).retry_in is not None
    assert order_sync_omie(order_id=order.pk) == SyncOutcome.done()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED
    assert "falha temporária persistente após 2 tentativas" in order.last_error


def test_throttle_waits_are_not_failures_but_the_sync_still_gives_up_in_time(sandbox, settings):
    order = trigger(sandbox.seed())
    sandbox.omie.ban("UpsertCliente", seconds=600)
    outcome = run(order)
    order.refresh_from_db()
    assert outcome.retry_in is not None and order.sync_attempts == 0 and order.sync_status == SyncStatus.PENDING

    Order.objects.filter(pk=order.pk).update(sync_started_at=timezone.now() - timedelta(hours=4))
    assert order_sync_omie(order_id=order.pk) == SyncOutcome.done()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.FAILED and "sincronização não concluída em 180 min" in order.last_error


def test_an_os_already_in_omie_is_read_back_never_created_twice(sandbox):
    """IncluirOS's answer was lost *and* the marker was lost: Omie's duplicate-key fault is read back."""
    order = trigger(sandbox.seed())
    run(order)
    order.refresh_from_db()
    created = (order.omie_os_code, order.omie_os_number)
    Order.objects.filter(pk=order.pk).update(
        sync_status=SyncStatus.PENDING, billing_status="", omie_os_code=None, omie_os_number="", omie_os_requested_at=None
    )
    assert order_sync_omie(order_id=order.pk) == SyncOutcome.done()
    order.refresh_from_db()
    assert (order.omie_os_code, order.omie_os_number) == created and order.sync_status == SyncStatus.SYNCED
    from sandbox.fake_omie.models import FakeServiceOrder

    assert FakeServiceOrder.objects.count() == 1


def test_a_busy_order_is_left_to_the_worker_holding_it(sandbox):
    from orders.services.locks import order_work_lock

    order = trigger(sandbox.seed())
    import threading

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        from django.db import connection

        with order_work_lock(order_id=order.pk):
            held.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    try:
        assert run(order) == SyncOutcome.done()
        assert sandbox.omie.calls() == []
    finally:
        release.set()
        thread.join()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.PENDING


def test_an_incluir_os_the_throttle_never_sent_leaves_nothing_to_consult(sandbox):
    """"Not now" before sending is not an unknown outcome: no ConsultarOS (a miss costs Omie's error budget)."""
    from integrations.omie.client import get_omie_client

    order = trigger(sandbox.seed())
    throttle = get_omie_client().throttle
    throttle.pause("IncluirOS", seconds=60)
    outcome = run(order)
    order.refresh_from_db()
    assert outcome.retry_in is not None and order.sync_attempts == 0
    assert order.omie_os_requested_at is None and not sandbox.omie.calls("IncluirOS")

    throttle.resume("IncluirOS")
    assert order_sync_omie(order_id=order.pk) == SyncOutcome.done()
    assert [c.call for c in sandbox.omie.calls()] == ["UpsertCliente", "IncluirOS"]


def test_a_customer_just_sent_by_another_order_is_not_sent_again(sandbox):
    first = trigger(sandbox.seed())
    second_id = sandbox.seed()
    sandbox.bubble_set("pedido", second_id, cliente=sandbox.customer_id_of(first.bubble_id))
    second = trigger(second_id)
    run(first)
    run(second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.sync_status == second.sync_status == SyncStatus.SYNCED
    assert second.omie_customer_code == first.omie_customer_code
    assert len(sandbox.omie_calls("UpsertCliente")) == 1 and len(sandbox.omie_calls("IncluirOS")) == 2
    assert "já enviado por outro pedido" in ActionLog.objects.get(order=second, action="omie_customer_upsert").message

    # Changed data in Bubble is sent again.
    third_id = sandbox.seed()
    sandbox.bubble_set("pedido", third_id, cliente=first.customer_bubble_id)
    sandbox.bubble_set("cliente", first.customer_bubble_id, email="novo@example.com")
    run(trigger(third_id))
    assert len(sandbox.omie_calls("UpsertCliente")) == 2
