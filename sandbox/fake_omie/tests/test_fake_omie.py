"""The fake Omie on its own, over raw HTTP (no client, no throttle): it must behave like Omie as
described in docs/omie.md#evidence, or the client's tests prove nothing."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import requests

from testsupport.fake_omie import make_cpf

pytestmark = pytest.mark.django_db(transaction=True)

CNPJ = "11222333000181"


def post(fake, call: str, param: Any = None, *, endpoint: str | None = None, key: str | None = None) -> requests.Response:
    from sandbox.fake_omie.catalog import ENDPOINT_OF

    body = {"call": call, "app_key": key or fake.app_key, "app_secret": fake.app_secret, "param": [param or {}]}
    return requests.post(fake.api_url + (endpoint or ENDPOINT_OF[call]), json=body, timeout=30)


def customer(fake, key="cli-1", doc=CNPJ) -> int:
    response = post(fake, "UpsertCliente", {"codigo_cliente_integracao": key, "razao_social": "ACME", "cnpj_cpf": doc,
                                            "email": "a@example.com"})
    assert response.json()["codigo_status"] == "0", response.json()
    return response.json()["codigo_cliente_omie"]


def service_order(fake, key="os-1", customer_id=None, value=150.5) -> dict:
    return post(fake, "IncluirOS", os_param(fake, key=key, customer_id=customer_id, value=value)).json()


def os_param(fake, key="os-1", customer_id=None, value=150.5) -> dict:
    """An IncluirOS parameter that follows Omie's published contract (codes inline, no nCodServico)."""
    head = {"cCodIntOS": key, "nCodCli": customer_id or customer(fake), "dDtPrevisao": "25/11/2026", "cEtapa": "20",
            "cCodParc": "000"}
    line = {"cCodServMun": "01015", "cTribServ": "01", "cCodServLC116": "1.07", "cDescServ": "Serviço", "nQtde": 1,
            "nValUnit": value}
    return {"Cabecalho": head, "ServicosPrestados": [line]}


# Omie's gates ---------------------------------------------------------------------------------
def test_rate_limit_answers_429_past_the_per_method_limit_and_frees_after_the_window(fake_omie):
    fake_omie.configure(rate_limit_per_method=3, time_scale=0.02)  # 3 per 1.2 s
    statuses = [post(fake_omie, "ListarOS", {"pagina": 1}).status_code for _ in range(4)]
    assert statuses[:3] == [500, 500, 500] and statuses[3] == 429  # 500 = Client-5113 (no OS yet)
    time.sleep(1.3)
    assert post(fake_omie, "ListarOS", {"pagina": 1}).status_code == 500


def test_rate_limit_per_app_key_counts_every_method(fake_omie):
    fake_omie.configure(rate_limit_per_key=2, redundant_on=False)
    assert post(fake_omie, "ListarOS", {"pagina": 1}).status_code != 429
    assert post(fake_omie, "ListarNFSEs", {"nPagina": 1}).status_code != 429
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "x"}).status_code == 429
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "x"}, key="another-app").status_code == 500  # its own budget


def test_a_second_write_of_the_same_method_in_flight_gets_client_1880(fake_omie):
    fake_omie.configure(latency_ms=600)
    answers: list[requests.Response] = []

    def write(i: int) -> None:
        answers.append(post(fake_omie, "UpsertCliente", {"codigo_cliente_integracao": f"c{i}", "razao_social": "X",
                                                         "cnpj_cpf": make_cpf(i)}))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200, 500, 500]
    faults = [a.json() for a in answers if a.status_code == 500]
    assert all(f["faultcode"] == "SOAP-ENV:Client-1880" and "sendo executada" in f["faultstring"] for f in faults)


def test_reads_run_in_parallel_up_to_four(fake_omie):
    service_order(fake_omie)
    fake_omie.configure(latency_ms=600, redundant_on=False)
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(post(fake_omie, "StatusOS", {"cCodIntOS": "os-1"}).status_code))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 200, 200, 200, 500]


def test_the_same_id_within_the_window_is_redundant_with_the_wait(fake_omie):
    fake_omie.configure(time_scale=0.05)  # 3 s window
    customer(fake_omie)
    first = post(fake_omie, "ConsultarCliente", {"codigo_cliente_integracao": "cli-1"})
    again = post(fake_omie, "ConsultarCliente", {"codigo_cliente_integracao": "cli-1"})
    other = post(fake_omie, "ConsultarCliente", {"codigo_cliente_integracao": "cli-2"})
    assert first.status_code == 200
    assert again.status_code == 500 and again.json()["faultstring"].startswith("ERROR: Consumo redundante detectado. Aguarde ")
    assert again.json()["faultstring"].endswith("(REDUNDANT)")
    assert 1 <= int(re.search(r"Aguarde (\d+) segundos", again.json()["faultstring"]).group(1)) <= 3
    assert "não cadastrado" in other.json()["faultstring"]
    time.sleep(3.1)
    assert post(fake_omie, "ConsultarCliente", {"codigo_cliente_integracao": "cli-1"}).status_code == 200


def test_ten_errors_ban_the_method_with_425_for_the_ban_length_extended_by_each_call(fake_omie):
    fake_omie.configure(time_scale=0.002, redundant_on=False)  # ban: 3.6 s
    answers = [post(fake_omie, "ConsultarOS", {"cCodIntOS": f"x{i}"}) for i in range(11)]
    assert [a.status_code for a in answers] == [500] * 10 + [425]
    ban = answers[-1].json()
    assert ban["faultcode"] == "MISUSE_API_PROCESS"
    assert re.fullmatch(r"ERROR: API bloqueada por consumo indevido\. Tente novamente em \d+ segundos\.", ban["faultstring"])
    assert post(fake_omie, "ListarNFSEs", {"nPagina": 1}).status_code != 425  # other methods are not banned
    time.sleep(2.5)
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "x"}).status_code == 425  # extended by that call
    time.sleep(2.5)
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "x"}).status_code == 425  # still within the extension
    time.sleep(3.7)
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "x"}).status_code == 500  # ban over: an ordinary not-found


def test_every_switch_turns_its_gate_off(fake_omie):
    fake_omie.configure(rate_limits_on=False, redundant_on=False, ban_on=False, rate_limit_per_method=1)
    statuses = [post(fake_omie, "ConsultarOS", {"cCodIntOS": "same"}).status_code for _ in range(12)]
    assert statuses == [500] * 12
    assert all("não cadastrada" in c.fault_string for c in fake_omie.calls())


# methods --------------------------------------------------------------------------------------
def test_invalid_documents_are_business_errors_inside_http_200(fake_omie):
    bad = post(fake_omie, "UpsertCliente", {"codigo_cliente_integracao": "c", "razao_social": "X", "cnpj_cpf": "123.456.789-00"})
    assert bad.status_code == 200 and bad.json()["codigo_status"] != "0"
    customer_id = fake_omie.seed_customer(key="typed-in-omie", document="11222333000100")
    os_answer = service_order(fake_omie, key="os-bad", customer_id=customer_id)
    assert os_answer["cCodStatus"] == "1" and "CNPJ/CPF deste cliente está inválido" in os_answer["cDescStatus"]


def test_duplicate_keys_are_client_102_faults_naming_the_existing_record(fake_omie):
    fake_omie.configure(redundant_on=False)
    first_id = customer(fake_omie, key="cli-1", doc=CNPJ)
    same_doc = post(fake_omie, "UpsertCliente", {"codigo_cliente_integracao": "cli-2", "razao_social": "X", "cnpj_cpf": CNPJ})
    assert same_doc.status_code == 500 and same_doc.json()["faultcode"] == "SOAP-ENV:Client-102"
    assert f"com o Id [{first_id}]" in same_doc.json()["faultstring"] and "já cadastrado" in same_doc.json()["faultstring"]
    created = service_order(fake_omie, key="os-1", customer_id=first_id)
    dup = post(fake_omie, "IncluirOS", os_param(fake_omie, key="os-1", customer_id=first_id, value=1))
    assert dup.json()["faultcode"] == "SOAP-ENV:Client-102" and f"[{created['nCodOS']}]" in dup.json()["faultstring"]


def test_upsert_updates_by_integration_key(fake_omie):
    fake_omie.configure(redundant_on=False)
    first = customer(fake_omie, key="cli-1")
    second = customer(fake_omie, key="cli-1")
    assert first == second
    assert post(fake_omie, "ConsultarCliente", {"codigo_cliente_omie": first}).json()["codigo_cliente_integracao"] == "cli-1"


def test_faturar_bills_at_once_and_the_nfse_follows_after_the_delay(fake_omie):
    fake_omie.configure(time_scale=0.1, redundant_on=False)  # NFS-e after 0.5 s
    created = service_order(fake_omie)
    assert created["cCodStatus"] == "0" and created["cNumOS"].isdigit() and len(created["cNumOS"]) == 15
    billed = post(fake_omie, "FaturarOS", {"cCodIntOS": "os-1"})
    assert billed.status_code == 200 and billed.json()["cCodStatus"] == "0"
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "os-1"}).json()["InfoCadastro"]["cFaturada"] == "S"
    waiting = post(fake_omie, "StatusOS", {"cCodIntOS": "os-1"}).json()
    assert waiting["cFaturada"] == "S" and [r["cStatusRps"] for r in waiting["ListaRpsNfse"]] == ["002"]
    assert "nNfse" not in waiting and "cStatusRps" not in waiting  # the RPS lives in ListaRpsNfse[], never at the top
    empty = post(fake_omie, "ListarNFSEs", {"nPagina": 1, "nCodigoOS": created["nCodOS"]})
    assert empty.status_code == 500 and empty.json()["faultcode"] == "SOAP-ENV:Client-5113"  # no records: Omie's fault
    time.sleep(0.6)
    (rps,) = post(fake_omie, "StatusOS", {"cCodIntOS": "os-1"}).json()["ListaRpsNfse"]
    assert rps["cStatusRps"] == "004" and rps["nNfse"].isdigit() and isinstance(rps["nRps"], str)
    assert rps["cCodVerif"] and rps["cUrlNfse"] and isinstance(rps["cInscrMunicipal"], int)
    listed = post(fake_omie, "ListarNFSEs", {"nPagina": 1, "nCodigoOS": created["nCodOS"]}).json()["nfseEncontradas"]
    assert [(n["Cabecalho"]["nNumeroNFSe"], n["Cabecalho"]["cStatusNFSe"]) for n in listed] == [(rps["nNfse"], "F")]
    assert listed[0]["OrdemServico"]["nCodigoOS"] == created["nCodOS"] and "cCodigoIntegracaoOS" not in listed[0]["OrdemServico"]
    assert set(listed[0]["Emissao"]) == {"cDataEmissao", "cHoraEmissao", "cUsuarioEmissao"}
    again = post(fake_omie, "FaturarOS", {"cCodIntOS": "os-1"})
    assert again.status_code == 500 and "já foi faturada" in again.json()["faultstring"]


def test_rejected_nfse_shows_the_city_hall_message_and_reenviar_sends_it_again(fake_omie):
    fake_omie.configure(time_scale=0.1, redundant_on=False, reject_documents=["11.222.333/0001-81"])
    service_order(fake_omie)
    post(fake_omie, "FaturarOS", {"cCodIntOS": "os-1"})
    time.sleep(0.6)
    (rejected,) = post(fake_omie, "StatusOS", {"cCodIntOS": "os-1", "lMsg": True}).json()["ListaRpsNfse"]
    (message,) = rejected["mensagens"]
    assert rejected["cStatusRps"] == "003" and message["cCodigo"] == "E0314" and message["cSituacao"] == "ERRO"
    assert "Inscrição municipal" in message["cDescricao"] and message["cCorrecao"]
    # A rejected RPS is not an NFS-e: the list has nothing (Client-5113).
    assert post(fake_omie, "ListarNFSEs", {"nPagina": 1}).json()["faultcode"] == "SOAP-ENV:Client-5113"
    fake_omie.configure(reject_documents=[])
    assert post(fake_omie, "ReenviarOS", {"cCodIntOS": "os-1"}).json()["cCodStatus"] == "0"
    time.sleep(0.6)
    items = post(fake_omie, "StatusOS", {"cCodIntOS": "os-1"}).json()["ListaRpsNfse"]
    assert [i["cStatusRps"] for i in items] == ["003", "004"] and items[0]["nLote"] < items[1]["nLote"]
    assert post(fake_omie, "ReenviarOS", {"cCodIntOS": "os-1"}).status_code == 500  # not rejected any more


def test_cancelar_marks_the_os_and_its_nfse_cancelled(fake_omie):
    fake_omie.configure(time_scale=0.1, redundant_on=False)
    created = service_order(fake_omie)
    post(fake_omie, "FaturarOS", {"nCodOS": created["nCodOS"]})
    time.sleep(0.6)
    assert post(fake_omie, "CancelarOS", {"cCodIntOS": "os-1"}).json()["cDescStatus"] == "Ordem de Serviço cancelada com sucesso!"
    assert post(fake_omie, "ConsultarOS", {"cNumOS": created["cNumOS"]}).json()["InfoCadastro"]["cCancelada"] == "S"
    listed = post(fake_omie, "ListarNFSEs", {"nPagina": 1, "cStatusNFSe": "C"}).json()["nfseEncontradas"]
    assert len(listed) == 1
    status = post(fake_omie, "StatusOS", {"cCodIntOS": "os-1"}).json()
    assert status["cCancelada"] == "S" and status["ListaRpsNfse"][-1]["cStatusRps"] == "005"
    assert post(fake_omie, "CancelarOS", {"cCodIntOS": "os-1"}).status_code == 500


def test_listar_os_pages_and_answers_5113_past_the_end(fake_omie):
    fake_omie.configure(redundant_on=False)
    customer_id = customer(fake_omie)
    for i in range(3):
        service_order(fake_omie, key=f"os-{i}", customer_id=customer_id)
    page = post(fake_omie, "ListarOS", {"pagina": 2, "registros_por_pagina": 2}).json()
    assert (page["pagina"], page["total_de_paginas"], page["total_de_registros"], page["registros"]) == (2, 2, 3, 1)
    assert page["osCadastro"][0]["Cabecalho"]["cCodIntOS"] == "os-2"
    past = post(fake_omie, "ListarOS", {"pagina": 3, "registros_por_pagina": 2})
    assert past.status_code == 500 and past.json() == {"faultstring": "ERROR: Não existem registros para a página [3]!",
                                                       "faultcode": "SOAP-ENV:Client-5113"}


def test_a_call_sent_to_the_wrong_endpoint_is_a_fault(fake_omie):
    service_order(fake_omie)
    wrong = post(fake_omie, "FaturarOS", {"cCodIntOS": "os-1"}, endpoint="servicos/os/")
    assert wrong.status_code == 500 and "not a valid method" in wrong.json()["faultstring"]
    assert post(fake_omie, "ConsultarOS", {"cCodIntOS": "os-1"}).json()["InfoCadastro"]["cFaturada"] == "N"


def test_malformed_requests_get_omie_faults(fake_omie):
    url = fake_omie.api_url + "servicos/os/"
    assert requests.post(url, data=b"{not json", timeout=5).json()["faultcode"] == "SOAP-ENV:Client-1"
    no_key = requests.post(url, json={"call": "ListarOS", "param": [{}]}, timeout=5).json()
    assert "chave de acesso" in no_key["faultstring"]
    no_param = requests.post(url, json={"call": "ListarOS", "app_key": "k", "app_secret": "s", "param": []}, timeout=5).json()
    assert no_param["faultcode"] == "SOAP-ENV:Client-71"


def test_latency_is_configurable(fake_omie):
    fake_omie.configure(latency_ms=400)
    started = time.monotonic()
    post(fake_omie, "ListarNFSEs", {"nPagina": 1})
    assert time.monotonic() - started >= 0.4


def test_every_call_is_recorded_with_its_answer_and_a_request_id(fake_omie):
    response = post(fake_omie, "ConsultarOS", {"cCodIntOS": "nope"})
    assert len(response.headers["x-omie-request-id"]) == 36
    [row] = fake_omie.calls()
    assert (row.call, row.endpoint, row.ident, row.http_status, row.fault_code) == (
        "ConsultarOS", "servicos/os/", "nope", 500, "SOAP-ENV:Client-103")
    assert row.param == {"cCodIntOS": "nope"} and row.finished_at >= row.received_at
    assert fake_omie.app_key not in row.app_key


# control surface ------------------------------------------------------------------------------
def test_the_control_endpoints_configure_inspect_inject_ban_and_reset(fake_omie):
    control = fake_omie.control_url
    config = requests.post(control + "config", json={"latency_ms": 5, "time_scale": 0.5}, timeout=5).json()
    assert (config["latency_ms"], config["time_scale"]) == (5, 0.5)
    assert requests.post(control + "config", json={"nope": 1}, timeout=5).status_code == 400
    requests.post(control + "inject", json={"kind": "html_502", "call": "ListarOS"}, timeout=5)
    assert post(fake_omie, "ListarOS", {"pagina": 1}).status_code == 502
    requests.post(control + "ban", json={"app_key": fake_omie.app_key, "call": "ListarOS", "seconds": 60}, timeout=5)
    assert post(fake_omie, "ListarOS", {"pagina": 1}).status_code == 425
    seeded = requests.post(control + "customers", json={"codigo_cliente_integracao": "s", "cnpj_cpf": "1"}, timeout=5).json()
    assert post(fake_omie, "ConsultarCliente", {"codigo_cliente_omie": seeded["codigo_cliente_omie"]}).status_code == 200
    calls = requests.get(control + "calls", params={"call": "ListarOS"}, timeout=5).json()["calls"]
    assert [c["http_status"] for c in calls] == [502, 425]
    reset = requests.post(control + "reset", json={}, timeout=5).json()
    assert reset["latency_ms"] == 0 and requests.get(control + "calls", timeout=5).json()["calls"] == []
