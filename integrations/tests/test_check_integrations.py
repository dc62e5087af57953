"""manage.py check_integrations and the admin page: all ok against the sandbox; each deliberately
wrong setting named with its fix, exit code 1, and never more than one Omie call (counted at the fake).

Omie, Bubble, BrasilAPI and Pagar.me are the sandbox fakes over real HTTP (live server); Flower is a
small local HTTP server started here."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import redis
from django.core.management import call_command

from common.health import record_beat_heartbeat
from common.worker_liveness import record_consumption
from integrations.checks.report import ERROR, OK, SKIPPED
from integrations.checks.service import integrations_check
from integrations.checks.systems import OMIE_GATE_KEY, OMIE_LAST_KEY

pytestmark = pytest.mark.django_db(transaction=True)

FLOWER_AUTH = "ops:flower-pass"
ORDER = "1671702337369x000000000000000001"
CUSTOMER = "1600000000000x000000000000000001"
KNOWN_CNPJ = "00000000000191"


class _Handler(http.server.BaseHTTPRequestHandler):
    """/flower/ (Basic auth)."""

    def log_message(self, *args: Any) -> None:
        pass

    def _auth(self) -> str:
        header = self.headers.get("Authorization", "")
        return base64.b64decode(header[6:]).decode() if header.startswith("Basic ") else ""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/flower"):
            self._send(200 if self._auth() == FLOWER_AUTH else 401, {})
        else:
            self._send(404, {})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(fake_omie, fake_bubble, fake_brasilapi, fake_pagarme, local_server, settings):
    """Everything configured right: the state a check must call all ok."""
    settings.SANDBOX_OMIE_APP_KEYS = [fake_omie.app_key]
    fake_bubble.put_customer(CUSTOMER, nome="Cliente", email="c@example.com", documento="52998224725", telefone="11999990000",
                             cep="01310100", logradouro="Av. Paulista", numero="1000", bairro="Bela Vista", cidade="São Paulo",
                             uf="SP", requer_aprovacao=False, razao_social="", nome_fantasia="", situacao_cadastral="",
                             omie_cliente_id="", saldo_cc="0")
    fake_bubble.put_order(ORDER, cliente=CUSTOMER, valor_total="150.00", descricao_servico="Serviço", codigo_servico_lc116="1.07",
                          forma_pagamento="boleto", status_pagamento="pending", status_pedido="Aguardando sincronização",
                          status_faturamento="", omie_os_numero="", nf_numero="", nf_link="", nf_xml_link="", data_faturamento_prevista="",
                          erro_integracao="")
    fake_brasilapi.put_company(KNOWN_CNPJ, razao_social="BANCO DO BRASIL SA")
    settings.INTEGRATIONS_CHECK_CNPJ = KNOWN_CNPJ
    settings.SANDBOX_PAGARME_SECRET_KEYS = [settings.PAGARME_SECRET_KEY]  # the fake's account key
    settings.PAGARME_WEBHOOK_AUTH = ["basic", "rs256"]
    settings.PAGARME_WEBHOOK_BASIC_AUTH = "pagarme:webhook-pass"
    settings.SENTRY_DSN = "https://public0123@o1.ingest.sentry.io/42"
    settings.FLOWER_URL = f"{local_server}/flower/"
    settings.FLOWER_BASIC_AUTH = FLOWER_AUTH
    record_beat_heartbeat()
    # a worker proved it consumes (what its probe records; no worker process runs in this test)
    record_consumption(redis.Redis.from_url(settings.REDIS_URL), "worker@check", time.time())
    return fake_omie


def next_minute(redis_client) -> None:
    """The Omie part runs at most once a minute: a new scenario starts a new minute."""
    redis_client.delete(OMIE_GATE_KEY, OMIE_LAST_KEY)


def run_command(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_integrations", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def items(report: Any) -> dict[str, Any]:
    return {f"{s.system}/{i.name}": i for s in report.systems for i in s.items}


def test_the_sandbox_is_all_ok_with_one_omie_call(world, settings):
    code, out = run_command("--json", "--bubble-order", ORDER)
    data = json.loads(out)
    bad = [(s["system"], i) for s in data["systems"] for i in s["items"] if i["verdict"] not in ("ok", "skipped")]
    assert bad == [] and data["verdict"] == "ok" and code == 0
    # OMIE_SERVICE_ID is set (the sandbox's service): its read is the one call, proving keys and service.
    assert [c.call for c in world.calls()] == ["ConsultarCadastroServico"]
    text = json.dumps(data, ensure_ascii=False)
    omie = next(s for s in data["systems"] if s["system"] == "Omie")
    category = next(i for i in omie["items"] if "OMIE_CODIGO_CATEGORIA" in i["name"])
    assert category["verdict"] == "skipped" and "existência não" in category["tried"]
    assert settings.PAGARME_SECRET_KEY not in text and "flower-pass" not in text and "test-app-secret" not in text


def test_the_omie_check_calls_omie_at_most_once_a_minute(world):
    first = integrations_check(only=("omie",))
    second = integrations_check(only=("omie",))
    assert len(world.calls()) == 1
    keys = next(i for i in second.systems[0].items if "chaves" in i.name)
    assert keys.verdict == OK and "no máximo uma vez por minuto" in keys.tried
    assert first.verdict == OK


def test_with_omie_service_id_the_one_call_confirms_the_service_exists(world, settings, redis_client):
    report = integrations_check(only=("omie",))
    service = items(report)["Omie/serviço das OS (OMIE_SERVICE_ID → nCodServico)"]
    assert service.verdict == OK and f"serviço {settings.OMIE_SERVICE_ID} existe no Omie" in service.got
    assert "código municipal 01015" in service.got
    again = items(integrations_check(only=("omie",)))["Omie/serviço das OS (OMIE_SERVICE_ID → nCodServico)"]
    assert again.verdict == OK and "no máximo uma vez por minuto" in again.tried  # the cached answer, no second call
    next_minute(redis_client)
    settings.OMIE_SERVICE_ID = 2500009999
    code, out = run_command()
    assert code == 1 and "o Omie não tem o serviço 2500009999" in out and "Cadastro de serviços" in out
    assert [c.call for c in world.calls()] == ["ConsultarCadastroServico"] * 2


def test_with_only_the_municipal_code_the_check_says_so_and_lists_nfses(world, settings):
    settings.OMIE_SERVICE_ID, settings.OMIE_SERVICE_MUNICIPAL_CODE = 0, "01015"
    report = items(integrations_check(only=("omie",)))
    mode = report["Omie/serviço das OS (OMIE_SERVICE_MUNICIPAL_CODE → cCodServMun)"]
    assert mode.verdict == SKIPPED and "em uso: cCodServMun 01015, cTribServ 01" in mode.got
    assert [c.call for c in world.calls()] == ["ListarNFSEs"]
    settings.OMIE_SERVICE_MUNICIPAL_CODE = ""
    code, out = run_command()
    assert code == 1 and "nem OMIE_SERVICE_ID nem OMIE_SERVICE_MUNICIPAL_CODE" in out


def test_a_bad_omie_key_is_an_error_with_its_fix_after_one_call(world, settings):
    settings.OMIE_APP_KEY = "chave-errada"
    code, out = run_command()
    assert code == 1
    assert "Omie recusou as credenciais" in out and "OMIE_APP_KEY e OMIE_APP_SECRET" in out
    assert len(world.calls()) == 1


def test_a_renamed_bubble_field_is_named_with_a_field_map_fix(world, fake_bubble, redis_client):
    from sandbox.fake_bubble.services import thing_get

    order = thing_get(type_name="pedido", bubble_id=ORDER)
    data = dict(order.data)
    data["valor_total_number"] = data.pop("valor_total")
    _replace(ORDER, data)
    report = integrations_check(bubble_order_id=ORDER)
    item = items(report)["Bubble/campos do pedido de exemplo"]
    assert item.verdict == ERROR and report.exit_code == 1
    assert "ausentes (o backend lê): valor_total" in item.got and "inesperados: valor_total_number" in item.got
    assert '"order.valor_total": "valor_total_number"' in item.fix
    assert len(world.calls()) == 1


def _replace(bubble_id: str, data: dict) -> None:
    from sandbox.fake_bubble.models import FakeThing

    FakeThing.objects.filter(type_name="pedido", bubble_id=bubble_id).update(data=data)


def test_a_wrong_bubble_token_is_named_with_its_fix(world, settings):
    settings.BUBBLE_API_TOKEN = "token-errado"
    from sandbox.fake_bubble.services import control_set

    control_set(token="test-bubble-token-0123456789abcdef")  # the fake still expects the right one
    code, out = run_command("--bubble-order", ORDER)
    assert code == 1
    assert "o Bubble recusou o token" in out and "BUBBLE_API_TOKEN" in out
    assert len(world.calls()) == 1


def test_an_unreachable_brasilapi_is_an_error(world, settings):
    from testsupport.processes import free_port

    settings.BRASILAPI_BASE_URL = f"http://127.0.0.1:{free_port()}/api"
    report = integrations_check()
    item = items(report)["BrasilAPI/alcance e consulta de um CNPJ conhecido"]
    assert item.verdict == ERROR and "Falha de conexão" in item.got and "BRASILAPI_BASE_URL" in item.fix
    assert report.exit_code == 1 and len(world.calls()) == 1


def test_a_wrong_pagarme_key_is_an_error(world, settings):
    settings.PAGARME_SECRET_KEY = "sk_test_errada"
    report = integrations_check()
    item = items(report)["Pagar.me/chave secreta (PAGARME_SECRET_KEY)"]
    assert item.verdict == ERROR and "HTTP 401" in item.got and "chave SECRETA" in item.fix
    assert report.exit_code == 1 and len(world.calls()) == 1


def test_every_wrong_setting_at_once_still_spends_one_omie_call(world, settings, redis_client):
    from sandbox.fake_bubble.services import control_set

    control_set(token="test-bubble-token-0123456789abcdef")
    settings.OMIE_APP_KEY = "chave-errada"
    settings.BUBBLE_API_TOKEN = "token-errado"
    settings.BRASILAPI_BASE_URL = "http://127.0.0.1:9/api"
    settings.PAGARME_SECRET_KEY = "sk_test_errada"
    settings.PAGARME_WEBHOOK_AUTH = ["basic", "md5"]
    code, out = run_command("--json")
    data = json.loads(out)
    errors = {s["system"] for s in data["systems"] for i in s["items"] if i["verdict"] == "error"}
    assert code == 1 and errors == {"Omie", "Bubble", "BrasilAPI", "Pagar.me"}
    assert all(i["fix"] for s in data["systems"] for i in s["items"] if i["verdict"] == "error")
    assert "md5" in out
    next_minute(redis_client)
    run_command()
    assert len(world.calls()) == 2  # one per check, and only once the minute has passed


def test_the_bubble_patch_writes_the_same_value_back_only_when_asked(world, fake_bubble):
    integrations_check(bubble_order_id=ORDER, only=("bubble",))
    assert fake_bubble.patches("order", ORDER) == []
    report = integrations_check(bubble_order_id=ORDER, bubble_patch=True, only=("bubble",))
    item = items(report)['Bubble/escrita pela Data API ("Modify via API")']
    assert item.verdict == OK
    patches = fake_bubble.patches("order", ORDER)
    assert len(patches) == 1
    before = fake_bubble.thing("order", ORDER)
    (key, value), = patches[0].body.items()
    assert before[key] == value


def test_the_admin_page_is_for_superusers_and_financeiro_only(world, client, user_factory):
    from django.contrib.auth.models import Group

    from billing.permissions import FINANCE_GROUP, OPS_GROUP

    ops = user_factory("ops", is_staff=True)
    ops.groups.add(Group.objects.get_or_create(name=OPS_GROUP)[0])
    client.force_login(ops)
    assert client.get("/admin/verificar-integracoes/").status_code == 403
    finance = user_factory("fin", is_staff=True)
    finance.groups.add(Group.objects.get_or_create(name=FINANCE_GROUP)[0])
    client.force_login(finance)
    page = client.get("/admin/verificar-integracoes/")
    assert page.status_code == 200 and "Verificar agora" in page.content.decode()
    # The page only asks a worker: it answers at once, with the run queued and refreshing itself.
    asked = client.post("/admin/verificar-integracoes/", {"bubble_order": ORDER})
    assert asked.status_code == 302 and "?verificacao=" in asked["Location"]
    waiting = client.get(asked["Location"]).content.decode()
    assert 'http-equiv="refresh"' in waiting and "na fila" in waiting and world.calls() == []
    # What the worker's task does (integrations/tasks/checks.py), here in this process.
    from integrations.checks.runs import integrations_check_run_execute
    from integrations.models import IntegrationCheckRun

    run = IntegrationCheckRun.objects.get()
    assert run.requested_by == finance and run.options["bubble_order_id"] == ORDER
    integrations_check_run_execute(run_id=run.pk)
    result = client.get(asked["Location"]).content.decode()
    assert 'id="check-verdict"' in result and "Resultado geral" in result and "ConsultarCadastroServico" in result
    assert 'http-equiv="refresh"' not in result and "concluída" in result and "fin" in result
    assert len(world.calls()) == 1
    index = client.get("/admin/").content.decode()
    assert "/admin/verificar-integracoes/" in index
