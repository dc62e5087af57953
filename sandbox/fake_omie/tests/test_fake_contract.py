"""The fake Omie answers in the shapes of Omie's published contract (integrations/omie/contract/):
every answer of every call the product makes, in every state an NFS-e goes through, is checked
against the contract description. If the fake drifts from the description (or the description is
changed without the fake), this fails: the demo and the suite cannot agree with a wrong guess again."""

from __future__ import annotations

import time

import pytest

from integrations.omie.contract.validator import response_problems, value_table
from sandbox.fake_omie.tests.test_fake_omie import CNPJ, customer, os_param, post

pytestmark = pytest.mark.django_db(transaction=True)


def answered(fake, call: str, param: dict) -> dict:
    response = post(fake, call, param)
    assert response.status_code == 200, (call, response.text)
    body = response.json()
    assert response_problems(call, body) == [], (call, body)
    return body


def rps_statuses(fake, key: str) -> list[str]:
    body = answered(fake, "StatusOS", {"cCodIntOS": key, "lMsg": True, "lPdfDest": True})
    return [item["cStatusRps"] for item in body["ListaRpsNfse"]]


def test_every_answer_of_the_nfse_life_matches_the_contract(fake_omie):
    fake_omie.configure(time_scale=0.1, redundant_on=False, reject_documents=[CNPJ])
    customer_id = customer(fake_omie)
    answered(fake_omie, "ConsultarCliente", {"codigo_cliente_omie": customer_id})
    created = answered(fake_omie, "IncluirOS", os_param(fake_omie, customer_id=customer_id))
    answered(fake_omie, "ConsultarOS", {"cCodIntOS": "os-1"})
    assert rps_statuses(fake_omie, "os-1") == []  # not billed: no RPS yet

    answered(fake_omie, "FaturarOS", {"cCodIntOS": "os-1"})
    assert rps_statuses(fake_omie, "os-1") == ["002"]
    time.sleep(0.6)
    assert rps_statuses(fake_omie, "os-1") == ["003"]  # the city hall refused (the fake rejects this CNPJ)

    fake_omie.configure(reject_documents=[])
    answered(fake_omie, "ReenviarOS", {"cCodIntOS": "os-1"})
    time.sleep(0.6)
    assert rps_statuses(fake_omie, "os-1") == ["003", "004"]
    listed = answered(fake_omie, "ListarNFSEs", {"nPagina": 1, "nRegPorPagina": 50, "nCodigoOS": created["nCodOS"]})
    assert [n["Cabecalho"]["cStatusNFSe"] for n in listed["nfseEncontradas"]] == ["F"]
    answered(fake_omie, "ListarOS", {"pagina": 1, "registros_por_pagina": 50})

    answered(fake_omie, "CancelarOS", {"cCodIntOS": "os-1"})
    assert rps_statuses(fake_omie, "os-1")[-1] == "005"
    assert set(rps_statuses(fake_omie, "os-1")) <= set(value_table("cStatusRps"))


def test_a_request_that_breaks_the_contract_is_refused_like_omie_refuses(fake_omie):
    fake_omie.configure(redundant_on=False)
    customer_id = customer(fake_omie)
    param = os_param(fake_omie, customer_id=customer_id)
    del param["ServicosPrestados"][0]["cCodServMun"]
    refused = post(fake_omie, "IncluirOS", param)
    assert refused.status_code == 500 and "cCodServMun" in refused.json()["faultstring"]
    param = os_param(fake_omie, customer_id=customer_id)
    param["Cabecalho"]["nValorTotal"] = 150.5  # "não deve ser informado na inclusão"
    refused = post(fake_omie, "IncluirOS", param)
    assert refused.status_code == 500 and "nValorTotal" in refused.json()["faultstring"]
