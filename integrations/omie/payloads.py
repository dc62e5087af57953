"""Builds Omie's parameter objects from plain values: nothing outside this package spells Omie's
field names. Every builder's output is checked against Omie's published types
(``integrations/omie/contract``) by the tests, field by field (docs/omie.md#the-contract-as-data).

Amounts stay ``Decimal`` here; the client writes them as JSON numbers with the exact same digits.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from stdnum.br import cnpj, cpf

# Omie's field lengths for the customer record; longer values are refused.
_MAX = {"razao_social": 60, "nome_fantasia": 100, "endereco": 60, "endereco_numero": 10, "bairro": 60, "cidade": 40}


def omie_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def document_kind(document: str) -> str:
    """"PF" for an 11-digit CPF, "PJ" otherwise (CNPJ, numeric or alphanumeric)."""
    return "PF" if len(_compact(document)) == 11 else "PJ"


def cliente_payload(
    *,
    codigo_cliente_integracao: str,
    razao_social: str,
    nome_fantasia: str | None = None,
    email: str,
    document: str,
    phone: str | None = None,
    cep: str | None = None,
    street: str | None = None,
    number: str | None = None,
    district: str | None = None,
    city: str | None = None,
    state: str | None = None,
    city_ibge: str | None = None,
) -> dict:
    """The UpsertCliente parameter, keyed by ``codigo_cliente_integracao`` (the Bubble customer id).

    ``pessoa_fisica`` is not sent: Omie documents it "Preenchimento automático - Não informar" (it
    follows the document). ``cidade_ibge`` (BrasilAPI's ``codigo_municipio_ibge``) names the city
    without depending on how its name is spelled."""
    doc = _compact(document)
    payload: dict = {
        "codigo_cliente_integracao": codigo_cliente_integracao,
        "razao_social": _cut("razao_social", razao_social),
        "nome_fantasia": _cut("nome_fantasia", nome_fantasia or razao_social),
        "cnpj_cpf": _format_document(doc),
        "email": email.strip(),
    }
    if phone:
        digits = re.sub(r"\D", "", phone)
        if digits.startswith("55") and len(digits) > 11:
            digits = digits[2:]
        if len(digits) >= 10:
            payload["telefone1_ddd"] = digits[:2]
            payload["telefone1_numero"] = digits[2:]
    optional = {
        "cep": re.sub(r"\D", "", cep or ""),
        "endereco": _cut("endereco", street or ""),
        "endereco_numero": _cut("endereco_numero", number or ""),
        "bairro": _cut("bairro", district or ""),
        "cidade": _cut("cidade", city or ""),
        "estado": (state or "").strip().upper()[:2],
        "cidade_ibge": re.sub(r"\D", "", str(city_ibge or "")),
    }
    payload.update({key: value for key, value in optional.items() if value})
    return payload


def os_payload(
    *,
    c_cod_int_os: str,
    codigo_cliente_omie: int,
    amount: Decimal,
    description: str,
    lc116_code: str,
    email: str,
    forecast: date,
) -> dict:
    """The IncluirOS parameter: one service line, the account's category, bank account and city.

    ``Cabecalho.nValorTotal`` is not sent ("Não deve ser informado na inclusão… calculado
    automaticamente"): the total is the lines' sum. ``cCodParc`` is documented as mandatory."""
    value = Decimal(amount).quantize(Decimal("0.01"))
    additional: dict = {
        "cCidPrestServ": settings.OMIE_CIDADE_PRESTACAO,
        "cCodCateg": settings.OMIE_CODIGO_CATEGORIA,
    }
    if settings.OMIE_CONTA_CORRENTE:
        additional["nCodCC"] = settings.OMIE_CONTA_CORRENTE
    return {
        "Cabecalho": {
            "cCodIntOS": c_cod_int_os,
            "cEtapa": settings.OMIE_ETAPA_OS,
            "dDtPrevisao": omie_date(forecast),
            "nCodCli": int(codigo_cliente_omie),
            "cCodParc": settings.OMIE_CODIGO_PARCELA,
            "nQtdeParc": 1,
        },
        "Departamentos": [],
        "Email": nfse_email_block(email),
        "InformacoesAdicionais": additional,
        "Observacoes": {"cObsOS": f"Pedido Bubble {c_cod_int_os}"},
        "ServicosPrestados": [service_line(description=description, lc116_code=lc116_code, value=value)],
    }


def nfse_email_wanted(email: str) -> bool:
    """Whether IncluirOS asks Omie to e-mail the NFS-e link (OMIE_SEND_NFSE_EMAIL and an address to send to)."""
    return bool(settings.OMIE_SEND_NFSE_EMAIL and email.strip())


def nfse_email_block(email: str) -> dict:
    """IncluirOS's ``Email`` block: with OMIE_SEND_NFSE_EMAIL, ``cEnvLink`` "S" makes Omie e-mail the
    customer the NFS-e link once the city hall authorizes it (no mail server of ours); off, "N".
    ``cEnviarPara`` is always the customer's address (a ValidarOS answer asks for an e-mail before billing)."""
    return {"cEnvBoleto": "N", "cEnvLink": "S" if nfse_email_wanted(email) else "N", "cEnviarPara": email.strip()}


def service_line(*, description: str, lc116_code: str, value: Decimal) -> dict:
    """One ``ServicosPrestados`` item. With OMIE_SERVICE_ID, ``nCodServico``: the registered service
    supplies the municipal code, LC 116, NBS and taxes (Omie: "irá assumir as informações do cadastro
    de serviço"), so the order's LC 116 code is not sent to contradict it. Otherwise the codes go
    inline: ``cCodServMun`` + ``cTribServ`` (both mandatory without nCodServico) and the order's
    ``cCodServLC116``. Description, price and quantity are ours either way."""
    line: dict = {}
    service_id = int(getattr(settings, "OMIE_SERVICE_ID", 0) or 0)
    if service_id:
        line["nCodServico"] = service_id
    else:
        line["cCodServMun"] = str(getattr(settings, "OMIE_SERVICE_MUNICIPAL_CODE", "") or "").strip()
        line["cTribServ"] = str(getattr(settings, "OMIE_SERVICE_TAXATION", "") or "01").strip()
        line["cCodServLC116"] = lc116_code
    line.update({"cDescServ": description, "cRetemISS": "N", "nQtde": 1, "nValUnit": value})
    return line


def _compact(document: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", document or "").upper()


def _format_document(doc: str) -> str:
    if len(doc) == 11 and cpf.is_valid(doc):
        return cpf.format(doc)
    if len(doc) == 14 and cnpj.is_valid(doc):
        return cnpj.format(doc)
    return doc  # Omie refuses it with its own message; the sync validates documents before this


def _cut(field: str, value: str) -> str:
    return (value or "").strip()[: _MAX[field]]
