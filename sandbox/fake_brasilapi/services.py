"""Helpers to drive the fake BrasilAPI from tests, the seed command and the control endpoint."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from sandbox.fake_brasilapi.models import FakeCompany, FakeControl, FakeLookup

CONTROL_FIELDS = ("fail_status", "fail_calls_left", "latency_ms")


def control_get() -> FakeControl:
    control, _ = FakeControl.objects.get_or_create(pk=1)
    return control


def control_set(**values: Any) -> FakeControl:
    unknown = set(values) - set(CONTROL_FIELDS)
    if unknown:
        raise ValueError(f"unknown control fields: {sorted(unknown)}")
    if values.get("fail_status") not in (None, 429, 500, 502, 503, 504):
        raise ValueError("fail_status must be 429 or 5xx")
    control_get()
    FakeControl.objects.filter(pk=1).update(**values)
    return control_get()


def control_reset(*, clear_data: bool = False) -> None:
    FakeControl.objects.update_or_create(pk=1, defaults={"fail_status": None, "fail_calls_left": None, "latency_ms": 0})
    if clear_data:
        FakeLookup.objects.all().delete()
        FakeCompany.objects.all().delete()


def failure_take() -> int | None:
    control = control_get()
    if control.fail_status is None:
        return None
    if control.fail_calls_left is None:
        return control.fail_status
    taken = FakeControl.objects.filter(pk=1, fail_calls_left__gt=0).update(fail_calls_left=F("fail_calls_left") - 1)
    if not taken:
        return None
    FakeControl.objects.filter(pk=1, fail_calls_left=0).update(fail_status=None, fail_calls_left=None)
    return control.fail_status


def false_404_take(*, cnpj: str) -> bool:
    return bool(FakeCompany.objects.filter(cnpj=cnpj, false_404_left__gt=0).update(false_404_left=F("false_404_left") - 1))


def company_put(*, cnpj: str, razao_social: str, **fields: Any) -> FakeCompany:
    company, _ = FakeCompany.objects.update_or_create(cnpj=cnpj, defaults={"razao_social": razao_social, **fields})
    return company


def lookups_for(*, cnpj: str | None = None) -> list[FakeLookup]:
    rows = FakeLookup.objects.all()
    if cnpj:
        rows = rows.filter(cnpj=cnpj)
    return list(rows.order_by("id"))


def company_payload(company: FakeCompany) -> dict[str, Any]:
    """The shape of BrasilAPI's /cnpj/v1 answer (docs/integrations.md#evidence), empty strings where it sends them."""
    return {
        "uf": company.uf,
        "cep": company.cep,
        "qsa": [],
        "cnpj": company.cnpj,
        "pais": None,
        "email": company.email or None,
        "porte": "DEMAIS",
        "bairro": company.bairro,
        "numero": company.numero or "S/N",
        "ddd_fax": "",
        "municipio": company.municipio,
        "logradouro": company.logradouro,
        "cnae_fiscal": 6201501,
        "codigo_pais": None,
        "complemento": company.complemento,
        "codigo_porte": 5,
        "razao_social": company.razao_social,
        "nome_fantasia": company.nome_fantasia,
        "capital_social": 100000,
        "ddd_telefone_1": company.telefone,
        "ddd_telefone_2": "",
        "opcao_pelo_mei": False,
        "codigo_municipio": 7107,
        "cnaes_secundarios": [],
        "natureza_juridica": "Sociedade Empresária Limitada",
        "regime_tributario": [],
        "situacao_especial": "",
        "opcao_pelo_simples": False,
        "situacao_cadastral": company.situacao_cadastral,
        "data_opcao_pelo_mei": None,
        "data_exclusao_do_mei": None,
        "cnae_fiscal_descricao": "Desenvolvimento de programas de computador sob encomenda",
        "codigo_municipio_ibge": 3550308,
        "data_inicio_atividade": "2015-03-10",
        "data_situacao_especial": None,
        "data_opcao_pelo_simples": None,
        "data_situacao_cadastral": "2015-03-10",
        "nome_cidade_no_exterior": "",
        "codigo_natureza_juridica": 2062,
        "data_exclusao_do_simples": None,
        "motivo_situacao_cadastral": 0,
        "ente_federativo_responsavel": "",
        "identificador_matriz_filial": 1,
        "qualificacao_do_responsavel": 49,
        "descricao_situacao_cadastral": company.get_situacao_cadastral_display(),
        "descricao_tipo_de_logradouro": "",
        "descricao_motivo_situacao_cadastral": "SEM MOTIVO",
        "descricao_identificador_matriz_filial": "MATRIZ",
    }
