"""Omie dry run (OMIE_DRY_RUN): orders sync from Bubble and BrasilAPI as usual, every Omie write is
recorded with its payload and not sent, nothing reaches Bubble; switching it off re-runs each order
for real exactly once. Against the fakes over real HTTP."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_deliver_due
from integrations.omie.calls import WRITE_CALLS
from integrations.omie.models import OmieDryRunCall
from orders.models import ActionLog, Order
from orders.services import order_sync_fetch, order_sync_omie, order_sync_sweep_stuck, order_sync_trigger
from orders.services.dry_run import order_dry_run_replay
from orders.services.sync_chain import OMIE, order_sync_next_step
from orders.services.sync_state import SyncOutcome
from orders.statuses import SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)

N = 20


def run(order_id: int) -> SyncOutcome:
    """Both steps, as the tasks chain them; a throttle "not now" is waited out (20 writes in a row
    outrun the per-method burst)."""
    for _ in range(50):
        outcome = order_sync_fetch(order_id=order_id)
        if outcome.go_on and order_sync_next_step(Order.objects.get(pk=order_id)) == OMIE:
            outcome = order_sync_omie(order_id=order_id)
        if outcome.retry_in is None:
            return outcome
        time.sleep(min(outcome.retry_in, 2.0))
    raise AssertionError("sync never finished")


def omie_writes(sandbox) -> list:
    return [c for c in sandbox.omie.calls() if c.call in WRITE_CALLS]


def test_dry_run_records_every_write_sends_none_then_replays_each_order_once(sandbox, settings, superuser_client):
    settings.OMIE_DRY_RUN = True
    orders = []
    for i in range(N):
        bubble_id = sandbox.seed(kind="PJ" if i % 2 else "PF", amount=f"{100 + i}.50")
        order, created = order_sync_trigger(bubble_id=bubble_id, actor="bubble")
        assert created
        orders.append(order)
    for order in orders:
        assert run(order.pk) == SyncOutcome.done()

    # 20 orders, each with its UpsertCliente and IncluirOS payload recorded; nothing sent, nothing written back.
    assert omie_writes(sandbox) == []
    assert OmieDryRunCall.objects.filter(call="IncluirOS").count() == N
    assert OmieDryRunCall.objects.filter(call="UpsertCliente").count() == N
    assert not OmieDryRunCall.objects.exclude(problems=[]).exists()
    assert BubbleWriteback.objects.count() == 0
    writeback_deliver_due()
    assert sandbox.bubble_patches("pedido", orders[0].bubble_id) == []
    from sandbox.fake_bubble.models import FakePatch

    assert FakePatch.objects.count() == 0

    os_call = OmieDryRunCall.objects.get(call="IncluirOS", order_id=orders[3].pk)
    assert os_call.data["Cabecalho"]["cCodIntOS"] == orders[3].bubble_id
    assert os_call.data["ServicosPrestados"][0]["nValUnit"] == Decimal("103.50")  # exact, never a float
    assert "nValorTotal" not in os_call.data["Cabecalho"]  # Omie computes it; "não deve ser informado"
    assert os_call.data["InformacoesAdicionais"]["cCodCateg"] == settings.OMIE_CODIGO_CATEGORIA
    assert os_call.payload.index('"Cabecalho"') < os_call.payload.index('"ServicosPrestados"')  # as sent
    for order in orders:
        order.refresh_from_db()
        assert order.sync_status == SyncStatus.PENDING and order.omie_os_code is None
        assert ActionLog.objects.filter(order=order, action="omie_dry_run").exists()

    # The order page shows the payload; the dashboard shows the banner.
    html = superuser_client.get(f"/admin/orders/order/{orders[3].pk}/change/").content.decode()
    assert "Ensaio: seria enviado ao Omie" in html and "IncluirOS" in html and "UpsertCliente" in html
    assert "103.50" in html and orders[3].bubble_id in html
    index = superuser_client.get("/admin/").content.decode()
    assert 'id="dry-run-banner"' in index and f"{N} pedidos em ensaio" in index

    # Running again while dry run is on re-records (same rows), still sends nothing; sweeps leave them alone.
    assert order_sync_sweep_stuck() == 0
    assert order_dry_run_replay() == 0
    assert OmieDryRunCall.objects.count() == 2 * N

    # Switched off: every order is re-run for real, once.
    settings.OMIE_DRY_RUN = False
    assert "dry-run-banner" not in superuser_client.get("/admin/").content.decode()
    assert order_dry_run_replay() == N
    assert order_dry_run_replay() == 0  # exactly once
    for order in orders:
        assert run(order.pk) == SyncOutcome.done()
        order.refresh_from_db()
        assert order.sync_status == SyncStatus.SYNCED, order.last_error
    assert len(sandbox.omie_calls("UpsertCliente")) == N
    assert len(sandbox.omie_calls("IncluirOS")) == N
    assert {c.call for c in omie_writes(sandbox)} == {"UpsertCliente", "IncluirOS"}
    assert not sandbox.omie.calls("ConsultarOS")  # nothing was in doubt: nothing had been sent
    assert OmieDryRunCall.objects.filter(replayed_at__isnull=True).count() == 0
    assert BubbleWriteback.objects.filter(thing="order").count() == N  # written back now, for real
    # Running everything again sends nothing more.
    assert order_dry_run_replay() == 0
    for order in orders:
        run(order.pk)
    assert len(omie_writes(sandbox)) == 2 * N


def test_only_the_dry_run_field_is_written_to_bubble(sandbox, settings):
    settings.OMIE_DRY_RUN = True
    settings.BUBBLE_DRY_RUN_FIELD = "ensaio_omie"
    order, _ = order_sync_trigger(bubble_id=sandbox.seed(kind="PF"), actor="bubble")
    run(order.pk)
    rows = list(BubbleWriteback.objects.all())
    assert len(rows) == 1 and rows[0].thing == "order" and set(rows[0].fields) == {"ensaio_omie"}
    assert rows[0].fields["ensaio_omie"].startswith("Ensaio: seria enviado ao Omie")
    assert omie_writes(sandbox) == []


def test_billing_writes_are_recorded_not_sent(sandbox, settings):
    """FaturarOS/CancelarOS/ReenviarOS meet the dry run at the client: recorded, a 'not now' raised."""
    from integrations.omie.client import get_omie_client
    from integrations.omie.dryrun import OmieDryRun

    settings.OMIE_DRY_RUN = True
    client = get_omie_client()
    for method in (client.faturar_os, client.cancelar_os, client.reenviar_os):
        with pytest.raises(OmieDryRun) as caught:
            method(c_cod_int_os="1671702337369x1", order_id=None)
        assert caught.value.retry_after > 0 and not caught.value.permanent
    assert set(OmieDryRunCall.objects.values_list("call", flat=True)) == {"FaturarOS", "CancelarOS", "ReenviarOS"}
    assert sandbox.omie.calls() == []


@pytest.fixture
def superuser_client(client, user_factory):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    return client


def test_invalid_payloads_are_reported_in_the_dry_run():
    from integrations.omie.dryrun import dry_run_validate

    problems = dry_run_validate("UpsertCliente", {"codigo_cliente_integracao": "x", "razao_social": "", "cnpj_cpf": "123",
                                                  "email": "semarroba"})
    assert "campo obrigatório vazio: razao_social" in problems
    assert any("CPF/CNPJ válido" in p for p in problems) and "email sem '@'" in problems
    os_problems = dry_run_validate("IncluirOS", {"Cabecalho": {"cCodIntOS": "1", "cEtapa": "20", "dDtPrevisao": "01/12/2026",
                                                               "nCodCli": 0, "nValorTotal": Decimal("10.00")},
                                                 "InformacoesAdicionais": {"cCodCateg": "", "cCidPrestServ": "X"},
                                                 "ServicosPrestados": [{"cCodServLC116": "1.07", "cDescServ": "s", "nQtde": 1,
                                                                        "nValUnit": Decimal("0.00")}]})
    assert "InformacoesAdicionais.cCodCateg vazio" in os_problems
    assert "soma dos serviços (0.00) deve ser maior que zero" in os_problems
    # Omie's published rules, from the contract description: each named by its field path.
    assert "Cabecalho.cCodParc: campo obrigatório ausente ou vazio" in os_problems
    assert any(p.startswith("Cabecalho.nValorTotal: não deve ser enviado") for p in os_problems)
    assert "ServicosPrestados[0].cCodServMun: obrigatório quando ServicosPrestados[0].nCodServico não é enviado" in os_problems


def test_the_dry_run_reports_a_payload_built_without_a_service_code(sandbox, settings):
    """Neither OMIE_SERVICE_ID nor OMIE_SERVICE_MUNICIPAL_CODE: the dry run records IncluirOS with the
    broken rule named, before anything is sent to Omie."""
    from integrations.omie.models import OmieDryRunCall

    settings.OMIE_DRY_RUN = True
    settings.OMIE_SERVICE_ID, settings.OMIE_SERVICE_MUNICIPAL_CODE = 0, ""
    order, _ = order_sync_trigger(bubble_id=sandbox.seed(kind="PJ", amount="103.50"), actor="bubble")
    assert run(order.pk) == SyncOutcome.done()
    recorded = OmieDryRunCall.objects.get(call="IncluirOS", order_id=order.pk)
    assert "ServicosPrestados[0].cCodServMun: obrigatório quando ServicosPrestados[0].nCodServico não é enviado" in (
        recorded.problems)
    assert omie_writes(sandbox) == []


def test_a_discarded_dry_run_order_is_never_sent(sandbox, settings):
    from django.core.management import call_command

    settings.OMIE_DRY_RUN = True
    keep, drop = (order_sync_trigger(bubble_id=sandbox.seed(kind="PF"), actor="bubble")[0] for _ in range(2))
    run(keep.pk)
    run(drop.pk)
    call_command("omie_dry_run_replay", "--discard", drop.bubble_id)
    drop.refresh_from_db()
    assert drop.sync_status == SyncStatus.FAILED and "Descartado após o ensaio" in drop.last_error
    settings.OMIE_DRY_RUN = False
    call_command("omie_dry_run_replay")
    run(keep.pk)
    run(drop.pk)
    keep.refresh_from_db()
    assert keep.sync_status == SyncStatus.SYNCED
    assert [c.param["codigo_cliente_integracao"] for c in sandbox.omie_calls("UpsertCliente")] == [keep.customer_bubble_id]
    assert len(sandbox.omie_calls("IncluirOS")) == 1
