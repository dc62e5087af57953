"""Omie's published contract (integrations/omie/contract) against every payload the product builds,
in both directions: each builder × each customer kind sends zero broken rules, and deleting a
required field or adding a do-not-send one is caught (mutation), so a builder that drops a required
field fails here. The fake Omie refuses the same requests over real HTTP."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests

from integrations.omie.contract import call_spec, contract, described_calls, request_issues, request_problems, response_problems
from integrations.omie.payloads import cliente_payload, os_payload
from integrations.omie.wire import dumps

CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"

CUSTOMERS: dict[str, dict[str, Any]] = {
    "pf-minimal": {"document": CPF, "razao_social": "Maria da Silva"},
    "pf-full": {"document": CPF, "razao_social": "Maria da Silva", "phone": "+55 (11) 98888-7777", "cep": "01310-100",
                "street": "Av. Paulista", "number": "1000", "district": "Bela Vista", "city": "São Paulo", "state": "sp"},
    "pj-minimal": {"document": CNPJ, "razao_social": "ACME Serviços LTDA"},
    "pj-full": {"document": CNPJ, "razao_social": "ACME Serviços LTDA", "nome_fantasia": "ACME", "phone": "1133334444",
                "cep": "01310100", "street": "AV PAULISTA", "number": "1000", "district": "BELA VISTA", "city": "SAO PAULO",
                "state": "SP", "city_ibge": "3550308"},
}
SERVICE_MODES = {
    "service-id": {"OMIE_SERVICE_ID": 2500000001, "OMIE_SERVICE_MUNICIPAL_CODE": ""},
    "municipal-code": {"OMIE_SERVICE_ID": 0, "OMIE_SERVICE_MUNICIPAL_CODE": "01015", "OMIE_SERVICE_TAXATION": "01"},
}
# Do-not-send fields (DO-NOT-SEND / AUTO / READ) a careless builder could add, by where they go.
FORBIDDEN_OS = [("Cabecalho", "nValorTotal", Decimal("10.00")), ("Cabecalho", "cDescParc", "A Vista"),
                ("ServicosPrestados[0]", "nIdItem", 1), ("ServicosPrestados[0]", "cCodigo", "SRV1"),
                ("InformacoesAdicionais", "cNumRecibo", "1"), ("", "InfoCadastro", {})]
FORBIDDEN_CLIENTE = [("pessoa_fisica", "S"), ("exterior", "N"), ("info", {})]


def build_cliente(kind: str) -> dict:
    return cliente_payload(codigo_cliente_integracao=f"cli-{kind}", email="fin@example.com", **CUSTOMERS[kind])


def build_os(settings, mode: str) -> dict:
    for name, value in SERVICE_MODES[mode].items():
        setattr(settings, name, value)
    return os_payload(c_cod_int_os="1671702337369x9", codigo_cliente_omie=2400000001, amount=Decimal("103.50"),
                      description="Intermediação de pagamento", lc116_code="10.02", email="fin@example.com",
                      forecast=date(2026, 12, 1))


def _get(obj: dict, path: str) -> dict:
    """The dict at ``Cabecalho`` / ``ServicosPrestados[0]`` / "" (the root)."""
    for part in filter(None, path.split(".")):
        name, _, index = part.partition("[")
        obj = obj[name][int(index[:-1])] if index else obj[name]
    return obj


def _required_paths(call: str, param: dict) -> list[str]:
    """Every field the builder sent whose deletion must be reported: REQUIRED, REQ1 (nCodServico
    absent), the call's also_required, and the sole member of a one_of group."""
    return [issue.path for issue in request_issues(call, _emptied(param)) if issue.kind == "missing"
            and _present(param, issue.path)]


def _emptied(param: dict) -> dict:
    """The same shape with every leaf removed except those that switch a REQ1 rule off (nCodServico):
    what is reported missing then is every rule that applies to this payload."""
    switches = {f["unless"] for node in contract()["types"].values() for f in node["fields"].values() if f.get("unless")}
    out: dict = {}
    for key, value in param.items():
        if key in switches:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _emptied(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [_emptied(item) for item in value]
    return out


def _present(param: dict, path: str) -> bool:
    parent, _, name = path.rpartition(".")
    try:
        return name in _get(param, parent)
    except (KeyError, IndexError):
        return False


def _delete(param: dict, path: str) -> dict:
    mutated = copy.deepcopy(param)
    parent, _, name = path.rpartition(".")
    del _get(mutated, parent)[name]
    return mutated


# the description itself ------------------------------------------------------------------------
def test_the_description_covers_every_call_the_client_makes_with_its_endpoint():
    from integrations.omie.calls import ENDPOINTS

    for call, endpoint in ENDPOINTS.items():
        assert call_spec(call) is not None, f"{call} is not described"
        assert call_spec(call)["endpoint"] == endpoint
    for call in ("AssociarCodIntCliente", "ListarClientes", "ObterNFSe"):
        assert call in described_calls()


def test_every_field_names_a_rule_and_a_source_and_the_value_tables_are_omies():
    data = contract()
    for type_name, node in data["types"].items():
        for name, field in node["fields"].items():
            assert field["rule"] in data["rules"] and field["src"] in data["sources"], f"{type_name}.{name}"
    assert list(data["values"]["cStatusRps"]["codes"]) == ["001", "002", "003", "004", "005"]
    assert set(data["values"]["cStatusNFSe"]["codes"]) == {"C", "F", "N"}
    assert {"10", "20", "30", "40", "50"} <= set(data["values"]["cEtapa"]["codes"])


# builders × customer kinds -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(CUSTOMERS))
def test_every_customer_payload_breaks_no_rule(kind):
    payload = build_cliente(kind)
    assert request_problems("UpsertCliente", payload) == []
    assert "pessoa_fisica" not in payload


def test_the_ibge_code_goes_as_cidade_ibge_only_when_known():
    assert build_cliente("pj-full")["cidade_ibge"] == "3550308"
    assert "cidade_ibge" not in build_cliente("pf-full")


@pytest.mark.parametrize("mode", sorted(SERVICE_MODES))
def test_every_os_payload_breaks_no_rule(settings, mode):
    payload = build_os(settings, mode)
    assert request_problems("IncluirOS", payload) == []
    assert "nValorTotal" not in payload["Cabecalho"]


def test_the_service_line_follows_the_configured_mode(settings):
    by_id = build_os(settings, "service-id")["ServicosPrestados"][0]
    assert by_id["nCodServico"] == 2500000001
    assert not {"cCodServMun", "cTribServ", "cCodServLC116"} & set(by_id)
    assert (by_id["cDescServ"], by_id["nQtde"], by_id["nValUnit"]) == ("Intermediação de pagamento", 1, Decimal("103.50"))
    inline = build_os(settings, "municipal-code")["ServicosPrestados"][0]
    assert (inline["cCodServMun"], inline["cTribServ"], inline["cCodServLC116"]) == ("01015", "01", "10.02")
    assert "nCodServico" not in inline


def test_with_neither_service_setting_the_line_breaks_the_rule(settings):
    settings.OMIE_SERVICE_ID, settings.OMIE_SERVICE_MUNICIPAL_CODE = 0, ""
    payload = os_payload(c_cod_int_os="x", codigo_cliente_omie=1, amount=Decimal("1.00"), description="d", lc116_code="1.07",
                         email="a@b.c", forecast=date(2026, 12, 1))
    assert any(p.startswith("ServicosPrestados[0].cCodServMun: obrigatório") for p in request_problems("IncluirOS", payload))


# mutation: the check must fail when a builder drops a required field or adds a forbidden one ----------
@pytest.mark.parametrize("kind", sorted(CUSTOMERS))
def test_deleting_any_required_customer_field_is_reported(kind):
    payload = build_cliente(kind)
    required = _required_paths("UpsertCliente", payload)
    assert {"razao_social", "codigo_cliente_integracao"} <= set(required)
    for path in required:
        problems = request_problems("UpsertCliente", _delete(payload, path))
        assert any(path in p for p in problems), (path, problems)


@pytest.mark.parametrize("mode", sorted(SERVICE_MODES))
def test_deleting_any_required_os_field_is_reported(settings, mode):
    payload = build_os(settings, mode)
    required = _required_paths("IncluirOS", payload)
    expected = {"Cabecalho.cCodParc", "Cabecalho.nCodCli", "ServicosPrestados[0].nQtde"}
    if mode == "municipal-code":
        expected |= {"ServicosPrestados[0].cCodServMun", "ServicosPrestados[0].cTribServ",
                     "ServicosPrestados[0].cCodServLC116", "ServicosPrestados[0].nValUnit", "ServicosPrestados[0].cDescServ"}
    assert expected <= set(required), set(required)
    for path in required:
        problems = request_problems("IncluirOS", _delete(payload, path))
        assert any(path in p for p in problems), (path, problems)


def test_deleting_the_service_id_makes_the_inline_codes_required(settings):
    payload = _delete(build_os(settings, "service-id"), "ServicosPrestados[0].nCodServico")
    problems = request_problems("IncluirOS", payload)
    for name in ("cCodServMun", "cTribServ", "cCodServLC116"):
        assert any(p.startswith(f"ServicosPrestados[0].{name}: obrigatório") for p in problems), name


@pytest.mark.parametrize(("where", "name", "value"), FORBIDDEN_OS)
def test_adding_a_do_not_send_os_field_is_reported(settings, where, name, value):
    payload = build_os(settings, "municipal-code")
    _get(payload, where)[name] = value
    path = f"{where}.{name}" if where else name
    assert [p for p in request_problems("IncluirOS", payload) if p.startswith(f"{path}: não deve ser enviado")]


@pytest.mark.parametrize(("name", "value"), FORBIDDEN_CLIENTE)
def test_adding_a_do_not_send_customer_field_is_reported(name, value):
    payload = {**build_cliente("pf-full"), name: value}
    assert [p for p in request_problems("UpsertCliente", payload) if p.startswith(f"{name}: não deve ser enviado")]


def test_an_unknown_field_or_a_wrong_json_type_is_reported(settings):
    payload = build_os(settings, "municipal-code")
    payload["Cabecalho"]["nCodCli"] = "2400000001"
    payload["ServicosPrestados"][0]["cCodServicoMun"] = "01015"
    problems = request_problems("IncluirOS", payload)
    assert "Cabecalho.nCodCli: esperado número inteiro, recebido texto '2400000001'" in problems
    assert "ServicosPrestados[0].cCodServicoMun: campo desconhecido no tipo os.ServicosPrestados" in problems


def test_the_keyed_os_calls_need_a_key():
    for call in ("ConsultarOS", "StatusOS", "FaturarOS", "CancelarOS", "ReenviarOS"):
        assert request_problems(call, {"cCodIntOS": "x"}) == [], call
        assert request_problems(call, {}), call
    assert request_problems("StatusOS", {"cCodIntOS": "x", "lMsg": "S"}) == ["lMsg: esperado true/false, recebido texto 'S'"]


# responses: the documented shapes pass, the old guesses do not ------------------------------------
def test_documented_status_os_and_listar_nfses_shapes_pass_and_the_old_guess_does_not():
    status = {"cCodIntOS": "x", "nCodOS": 6301382458, "cNumOS": "000000000001726", "cEtapa": "50", "cFaturada": "S",
              "cCancelada": "N", "dDtFat": "01/12/2026", "nValorTot": 103.5,
              "ListaRpsNfse": [{"nLote": 12, "cStatusLote": "003", "nRps": "88", "cStatusRps": "003", "cInscrMunicipal": 123,
                                "mensagens": [{"cCodigo": "E160", "cDescricao": "Código de serviço inválido",
                                               "cCorrecao": "Revise o cadastro", "cSituacao": "ERRO"}]},
                               {"nLote": 13, "cStatusLote": "004", "nRps": "89", "cStatusRps": "004", "nNfse": "1234",
                                "cCodVerif": "AB12CD", "cUrlNfse": "https://nfse.example/1234"}]}
    assert response_problems("StatusOS", status) == []
    guess = {"cCodIntOS": "x", "cStatusRps": "004", "nNfse": 1234, "ListaMensagens": []}
    problems = response_problems("StatusOS", guess)
    assert "cStatusRps: campo desconhecido no tipo osStatusResponse" in problems
    assert "ListaMensagens: campo desconhecido no tipo osStatusResponse" in problems
    assert response_problems("StatusOS", {"ListaRpsNfse": [{"cStatusRps": "006"}]})[0].startswith(
        "ListaRpsNfse[0].cStatusRps: valor '006' fora da tabela cStatusRps")
    nfse = {"nPagina": 1, "nTotPaginas": 1, "nRegistros": 1, "nTotRegistros": 1, "nfseEncontradas": [{
        "Cabecalho": {"nNumeroNFSe": "1234", "cStatusNFSe": "F", "nCodNF": 77, "nValorNFSe": 200, "cAmbienteNFSe": "H"},
        "OrdemServico": {"nCodigoOS": 6301382458, "nNumeroOS": "19", "nValorOS": 200},
        "RPS": {"cStatusRPS": "004", "nStatusLote": "004", "nNumeroLote": 5, "nNumeroRPS": "88"},
        "Emissao": {"cDataEmissao": "07/05/2014", "cHoraEmissao": ""},
        "ListaServicos": [{"CidadePrestacao": "CABREUVA (SP)", "CodigoLC116": "02.03", "CodigoServico": "01.02"}],
        "Valores": {"cIssRetido": "N", "nAliquotaISS": 5, "nValorBaseCalculo": 200, "nValorISS": 10}}]}
    assert response_problems("ListarNFSEs", nfse) == []
    nfse["nfseEncontradas"][0]["Emissao"] = {"dDataEmisNFSe": "07/05/2014"}
    assert response_problems("ListarNFSEs", nfse) == [
        "nfseEncontradas[0].Emissao.dDataEmisNFSe: campo desconhecido no tipo nfse.Emissao"]


# the fake Omie refuses exactly as described ---------------------------------------------------------
def _post(fake, call: str, param: dict) -> requests.Response:
    endpoint = call_spec(call)["endpoint"]
    body = {"call": call, "app_key": fake.app_key, "app_secret": fake.app_secret, "param": [param]}
    return requests.post(fake.api_url + endpoint, data=dumps(body).encode(), timeout=30,
                         headers={"Content-Type": "application/json"})


@pytest.mark.django_db(transaction=True)
def test_the_fake_refuses_an_os_line_with_neither_service_id_nor_municipal_code(fake_omie, settings):
    fake_omie.configure(redundant_on=False)
    customer = fake_omie.seed_customer(key="cli-contract", document="11222333000181")
    payload = build_os(settings, "municipal-code")
    payload["Cabecalho"]["nCodCli"] = customer
    for name in ("cCodServMun", "cTribServ"):
        del payload["ServicosPrestados"][0][name]
    answer = _post(fake_omie, "IncluirOS", payload)
    assert answer.status_code == 500
    assert answer.json() == {"faultstring": "ERROR: O preenchimento da tag [ServicosPrestados[0].cTribServ] é obrigatório!",
                             "faultcode": "SOAP-ENV:Client-1000"}
    assert _post(fake_omie, "ConsultarOS", {"cCodIntOS": payload["Cabecalho"]["cCodIntOS"]}).json()["faultcode"] == (
        "SOAP-ENV:Client-103")  # nothing was created

    payload["ServicosPrestados"][0]["nCodServico"] = 2500000001  # the registered service supplies the codes
    created = _post(fake_omie, "IncluirOS", payload)
    assert created.status_code == 200 and created.json()["cCodStatus"] == "0", created.json()


@pytest.mark.django_db(transaction=True)
def test_the_fake_refuses_a_do_not_send_field(fake_omie):
    fake_omie.configure(redundant_on=False)
    answer = _post(fake_omie, "UpsertCliente", {**build_cliente("pj-full"), "pessoa_fisica": "N"})
    assert answer.status_code == 500
    assert answer.json()["faultstring"] == "ERROR: A tag [pessoa_fisica] não deve ser informada nesta requisição!"
    assert answer.json()["faultcode"].startswith("SOAP-ENV:Client-")
    assert _post(fake_omie, "UpsertCliente", build_cliente("pj-full")).json()["codigo_status"] == "0"


@pytest.mark.django_db(transaction=True)
def test_the_fake_answers_the_service_read_with_the_documented_shape(fake_omie, settings):
    found = _post(fake_omie, "ConsultarCadastroServico", {"nCodServ": settings.SANDBOX_OMIE_SERVICE_ID})
    assert found.status_code == 200 and response_problems("ConsultarCadastroServico", found.json()) == []
    assert found.json()["intListar"]["nCodServ"] == settings.SANDBOX_OMIE_SERVICE_ID
    missing = _post(fake_omie, "ConsultarCadastroServico", {"nCodServ": 1})
    assert missing.status_code == 500 and "não cadastrado" in missing.json()["faultstring"]
