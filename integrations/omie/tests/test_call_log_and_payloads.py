"""The call log's retention and admin, the periodic entry, the dashboard selector, the payloads."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.omie.models import OmieCall
from integrations.omie.payloads import cliente_payload, os_payload

pytestmark = pytest.mark.django_db


def _row(**extra) -> OmieCall:
    values = {"call": "ConsultarOS", "outcome": "ok", "duration_ms": 5}
    values.update(extra)
    return OmieCall.objects.create(**values)


def test_prune_deletes_only_rows_past_retention(settings):
    from integrations.omie.services import omie_call_prune

    settings.OMIE_CALL_RETENTION_DAYS = 90
    now = timezone.now()
    old = [_row(created_at=now - timedelta(days=91)) for _ in range(3)]
    kept = [_row(created_at=now - timedelta(days=89)), _row(created_at=now)]
    assert omie_call_prune(now=now) == 3
    assert set(OmieCall.objects.values_list("id", flat=True)) == {r.id for r in kept}
    assert not OmieCall.objects.filter(id__in=[r.id for r in old]).exists()


def test_prune_is_registered_as_a_daily_periodic_task():
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks", stdout=io.StringIO())
    task = PeriodicTask.objects.get(task="integrations.omie.tasks.omie_call_prune")
    assert task.crontab is not None and (task.crontab.hour, task.crontab.minute) == ("3", "17")


def test_the_admin_lists_filters_and_searches_but_never_edits(client, user_factory):
    admin = user_factory("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    row = _row(integration_key="1671702337369x1", order_id=55, outcome="business", fault_message="CPF [doc] inválido")
    listing = client.get("/admin/omie/omiecall/", {"q": "1671702337369x1", "outcome__exact": "business"})
    assert listing.status_code == 200 and b"1671702337369x1" in listing.content
    assert client.get("/admin/omie/omiecall/add/").status_code == 403
    detail = client.get(f"/admin/omie/omiecall/{row.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.post(f"/admin/omie/omiecall/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OmieCall.objects.filter(pk=row.pk).exists()


def test_throttle_state_reports_every_method_with_its_limits(settings):
    from integrations.omie.selectors import throttle_state
    from integrations.omie.services import omie_method_pause, omie_method_resume

    omie_method_pause(call="FaturarOS", seconds=300)
    state = throttle_state()
    methods = {m["call"]: m for m in state["methods"]}
    from integrations.omie.calls import ALL_CALLS

    assert sorted(methods) == sorted(ALL_CALLS)
    assert methods["AssociarCodIntCliente"]["is_write"] and not methods["ListarClientes"]["is_write"]
    assert methods["FaturarOS"]["pause_reason"] == "manual" and methods["FaturarOS"]["paused_until"] > timezone.now()
    assert (methods["FaturarOS"]["is_write"], methods["FaturarOS"]["concurrency"]) == (True, 1)
    assert (methods["ListarOS"]["is_write"], methods["ListarOS"]["concurrency"]) == (False, 3)
    assert methods["ListarOS"]["tokens"] == settings.OMIE_RATE_BURST_PER_METHOD
    assert state["limits"]["rate_per_method_per_minute"] == 200
    omie_method_resume(call="FaturarOS")
    assert {m["call"]: m for m in throttle_state()["methods"]}["FaturarOS"]["paused_until"] is None


def test_it_counts_omie_calls_by_outcome_since_the_given_time(settings):
    from integrations.omie.selectors import omie_call_counts

    _row(outcome="ok", order_id=1)
    _row(outcome="business", order_id=1)
    _row(outcome="business", created_at=timezone.now() - timedelta(days=2))
    assert omie_call_counts(since=timezone.now() - timedelta(days=1)) == {"ok": 1, "business": 1}


def test_cliente_payload_formats_the_document_phone_and_address():
    payload = cliente_payload(codigo_cliente_integracao="1671702337369x4", razao_social="  ACME Serviços LTDA  ",
                              email="fin@acme.example", document="11.222.333/0001-81", phone="+55 (11) 98888-7777",
                              cep="01310-100", street="Av. Paulista", number="1000", district="Bela Vista",
                              city="São Paulo", state="sp")
    assert payload == {
        "codigo_cliente_integracao": "1671702337369x4", "razao_social": "ACME Serviços LTDA",
        "nome_fantasia": "ACME Serviços LTDA", "cnpj_cpf": "11.222.333/0001-81", "email": "fin@acme.example",
        "telefone1_ddd": "11", "telefone1_numero": "988887777", "cep": "01310100",
        "endereco": "Av. Paulista", "endereco_numero": "1000", "bairro": "Bela Vista", "cidade": "São Paulo", "estado": "SP",
    }
    pf = cliente_payload(codigo_cliente_integracao="x", razao_social="Maria", email="m@x.com", document="529.982.247-25")
    # pessoa_fisica is Omie's to fill ("Preenchimento automático - Não informar"): never sent.
    assert pf["cnpj_cpf"] == "529.982.247-25" and "cep" not in pf and "pessoa_fisica" not in pf
    alnum = cliente_payload(codigo_cliente_integracao="x", razao_social="N", email="n@x.com", document="12abc34501de35")
    assert alnum["cnpj_cpf"] == "12.ABC.345/01DE-35"


def test_os_payload_uses_the_account_settings_and_keeps_the_amount_exact(settings):
    from integrations.omie.wire import dumps

    settings.OMIE_CODIGO_CATEGORIA, settings.OMIE_CONTA_CORRENTE = "1.01.03", 4321
    settings.OMIE_CIDADE_PRESTACAO, settings.OMIE_ETAPA_OS = "CAMPINAS (SP)", "10"
    settings.OMIE_SERVICE_ID, settings.OMIE_SERVICE_MUNICIPAL_CODE, settings.OMIE_CODIGO_PARCELA = 0, "01015", "A15"
    payload = os_payload(c_cod_int_os="1671702337369x9", codigo_cliente_omie=2400000001, amount=Decimal("1234567.89"),
                         description="Consultoria", lc116_code="17.01", email="fin@acme.example", forecast=date(2026, 11, 25))
    head, info, [line] = payload["Cabecalho"], payload["InformacoesAdicionais"], payload["ServicosPrestados"]
    assert (head["cCodIntOS"], head["nCodCli"], head["dDtPrevisao"], head["cEtapa"], head["cCodParc"]) == (
        "1671702337369x9", 2400000001, "25/11/2026", "10", "A15")
    assert info == {"cCidPrestServ": "CAMPINAS (SP)", "cCodCateg": "1.01.03", "nCodCC": 4321}
    assert (line["cCodServLC116"], line["nValUnit"], line["nQtde"]) == ("17.01", Decimal("1234567.89"), 1)
    wire = dumps({**payload, "cents": Decimal("10.10")})
    # Omie computes the OS total from the lines ("Não deve ser informado na inclusão"): never sent.
    assert '"nValUnit": 1234567.89' in wire and "nValorTotal" not in wire
    assert '"cents": 10.10' in wire  # the exact digits, never a float's
    assert json.loads(wire, parse_float=Decimal)["ServicosPrestados"][0]["nValUnit"] == Decimal("1234567.89")


def test_the_dashboard_panel_names_paused_methods_and_their_reason():
    from integrations.omie.selectors import omie_dashboard_panel
    from integrations.omie.throttle import get_throttle

    get_throttle().pause("FaturarOS", seconds=600, reason="banned")
    panel = omie_dashboard_panel()
    assert panel["alert"] and panel["big"] == 1
    row = next(r for r in panel["rows"] if r[0] == "FaturarOS")
    assert "pausado até" in row[1] and "425" in row[1] and row[3] == "0 / 1"
