"""The answer classes of docs/omie.md#classification-classifypy, row by row, on the real message shapes quoted in
docs/omie.md#evidence (pure function)."""

from __future__ import annotations

import pytest

from integrations.omie.classify import classify, existing_customer
from integrations.omie.types import CallClass


def fault(code: str, text: str) -> dict[str, str]:
    return {"faultstring": text, "faultcode": code}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # ok
        (200, {"cCodIntOS": "x", "nCodOS": 1, "cNumOS": "000000000001726", "cCodStatus": "0",
               "cDescStatus": "Ordem de Serviço cadastrado com sucesso!"}, CallClass.OK),
        (200, {"codigo_cliente_omie": 1, "codigo_status": "0", "descricao_status": "Cliente alterado com sucesso!"},
         CallClass.OK),
        (200, {"pagina": 1, "total_de_paginas": 1, "osCadastro": []}, CallClass.OK),
        # business inside HTTP 200 (recorded FaturarOS)
        (200, {"cCodStatus": "1", "cDescStatus": "Não foi possível realizar o faturamento dessa Ordem de Serviço! O CNPJ/CPF "
               "deste cliente está inválido."}, CallClass.BUSINESS),
        (200, {"codigo_status": "101", "descricao_status": "CPF inválido"}, CallClass.BUSINESS),
        # validation faults
        (500, fault("SOAP-ENV:Client-71", "ERROR: Nenhum parâmetro foi recebido em WS_PARAMS!"), CallClass.BUSINESS),
        (500, fault("SOAP-ENV:Client-1000", "ERROR: O preenchimento da tag [cCodIntOS] é obrigatório!"), CallClass.BUSINESS),
        (500, fault("SOAP-ENV:Client-102", "ERROR: O CEP informado é inválido!"), CallClass.BUSINESS),  # 102 reused
        # not found
        (500, fault("SOAP-ENV:Client-103", "ERROR: OS não cadastrada para o Código de Integração [x] !"), CallClass.NOT_FOUND),
        (500, fault("SOAP-ENV:Client-105", "ERROR: Cliente não cadastrado para o Código [123] !"), CallClass.NOT_FOUND),
        (500, fault("SOAP-ENV:Client-5113", "ERROR: Não existem registros para a página [3]!"), CallClass.NOT_FOUND),
        # duplicate (classified by text)
        (500, fault("SOAP-ENV:Client-102", "ERROR: Cliente já cadastrado para o Código de Integração [abc] com o nCod [2485] !"),
         CallClass.DUPLICATE),
        # concurrent
        (500, fault("SOAP-ENV:Client-1880", "ERROR: Já existe uma requisição desse método sendo executada e você pode tentar "
                    "novamente em alguns instantes."), CallClass.CONCURRENT),
        (500, fault("SOAP-ENV:Client-1100", "ERROR: Esta requisição já foi processada ou está sendo processada e você pode "
                    "tentar novamente às 23:59:59."), CallClass.CONCURRENT),
        # redundant
        (500, fault("SOAP-ENV:Client-6", "ERROR: Consumo redundante detectado. Aguarde 58 segundos para tentar novamente "
                    "(REDUNDANT)"), CallClass.REDUNDANT),
        # rate limited / banned
        (429, None, CallClass.RATE_LIMITED),
        (429, fault("x", "Too many Requests"), CallClass.RATE_LIMITED),
        (425, fault("MISUSE_API_PROCESS", "ERROR: API bloqueada por consumo indevido. Tente novamente em 1789 segundos."),
         CallClass.BANNED),
        (500, fault("MISUSE_API_PROCESS", "ERROR: API bloqueada por consumo indevido. Tente novamente em 1789 segundos."),
         CallClass.BANNED),
        (425, None, CallClass.BANNED),
        # transient
        (500, fault("SOAP-ENV:Server", "SOAP-ERROR: Broken response from Application Server"), CallClass.TRANSIENT),
        (500, fault("SOAP-ENV:Client-8020", "ERROR: falha"), CallClass.TRANSIENT),
        (502, None, CallClass.TRANSIENT),
        (200, None, CallClass.TRANSIENT),  # truncated or empty body
        (503, {"message": "upstream"}, CallClass.TRANSIENT),
        (200, ["not", "an", "object"], CallClass.TRANSIENT),
        # a wrong URL answered by a gateway: permanent
        (404, None, CallClass.BUSINESS),
    ],
)
def test_every_answer_shape_gets_its_class(status, body, expected):
    assert classify(status, body, {}).cls == expected


def test_redundant_and_ban_waits_are_parsed():
    redundant = classify(500, fault("SOAP-ENV:Client-6", "ERROR: Consumo redundante detectado. Aguarde 58 segundos para "
                                    "tentar novamente (REDUNDANT)"))
    banned = classify(425, fault("MISUSE_API_PROCESS", "ERROR: API bloqueada por consumo indevido. Tente novamente em 1789 "
                                 "segundos."))
    assert redundant.wait_seconds == 58 and banned.wait_seconds == 1789
    assert classify(425, None).wait_seconds is None  # the client then pauses for OMIE_BAN_DEFAULT_SECONDS


def test_duplicate_ids_are_parsed_from_both_known_texts():
    by_key = classify(500, fault("SOAP-ENV:Client-102", "ERROR: Cliente já cadastrado para o Código de Integração [abc] com o "
                                 "nCod [2485] !"))
    by_doc = classify(500, fault("SOAP-ENV:Client-102", "ERROR: Cliente já cadastrado para o CPF/CNPJ [11.222.333/0001-81] com o "
                                 "Id [2400000007] e código de integração [x] ! (add)"))
    assert (by_key.existing_id, by_doc.existing_id) == (2485, 2400000007)


def test_messages_lose_the_error_prefix_and_keep_the_fault_code():
    outcome = classify(500, fault("SOAP-ENV:Client-103", "ERROR: OS não cadastrada para o Código de Integração [x] !"))
    assert outcome.message == "OS não cadastrada para o Código de Integração [x] !"
    assert outcome.fault_code == "SOAP-ENV:Client-103"


def test_the_omie_api_error_header_marks_8020_transient_and_the_request_id_is_kept():
    headers = {"OmieAPI-Error": "8020 - x", "x-omie-request-id": "abc"}
    outcome = classify(500, fault("SOAP-ENV:Client-9999", "ERROR: erro"), headers)
    assert outcome.cls == CallClass.TRANSIENT and outcome.request_id == "abc"


def test_client_1100_time_becomes_seconds_from_now():
    from datetime import timedelta

    from django.utils import timezone

    at = timezone.localtime() + timedelta(seconds=90)
    outcome = classify(500, fault("SOAP-ENV:Client-1100", "ERROR: Esta requisição já foi processada ou está sendo processada e "
                                  f"você pode tentar novamente às {at:%H:%M:%S}."))
    assert 85 <= outcome.wait_seconds <= 91


@pytest.mark.parametrize(
    ("text", "omie_id", "code", "document"),
    [
        # the real capture: a customer registered by hand has no code, Omie writes "[ ]"
        ("ERROR: Cliente já cadastrado para o CPF/CNPJ [39.330.543/0001-02] com o Id [2485994540] e código de integração [ ] ! (add)",
         2485994540, "", "39.330.543/0001-02"),
        ("Cliente já cadastrado para o CPF/CNPJ [39.330.543/0001-02] com o Id [2485994540] e código de integração [] ! (add)",
         2485994540, "", "39.330.543/0001-02"),
        # another record's code (another Bubble customer of the same CNPJ)
        ("ERROR: Cliente já cadastrado para o CPF/CNPJ [529.982.247-25] com o Id [2400000007] e código de integração "
         "[1600000000000x000000000000000002] ! (add)", 2400000007, "1600000000000x000000000000000002", "529.982.247-25"),
        # by integration code (Client-102), also without the space before "!"
        ("ERROR: Cliente já cadastrado para o Código de Integração [abc] com o nCod [2485] !", 2485, "abc", ""),
        ("ERROR: Cliente já cadastrado para o Código de Integração [abc] com o nCod [2485]!", 2485, "abc", ""),
        # the older wording: a number, not said whose, and no code → a lookup by document decides
        ("ERROR: Cliente já cadastrado para o código [2485994540]", 2485994540, None, ""),
    ],
)
def test_the_existing_customer_is_read_from_every_known_duplicate_text(text, omie_id, code, document):
    found = existing_customer(text)
    assert found is not None
    assert (found.omie_id, found.integration_code, found.document) == (omie_id, code, document)
    assert found.needs_lookup is (code is None)
    assert classify(500, fault("SOAP-ENV:Client-102", text)).cls == CallClass.DUPLICATE


def test_texts_that_are_not_a_customer_duplicate_are_not_read_as_one():
    assert existing_customer("ERROR: Cliente não cadastrado para o Código [123] !") is None
    assert existing_customer("ERROR: OS já cadastrada para o Código de Integração [x] com o nCodOS [9] !") is None
    unreadable = existing_customer("ERROR: Cliente já cadastrado!")
    assert unreadable is not None and unreadable.needs_lookup and unreadable.omie_id is None
