"""What each Omie method does to the fake's records, with Omie's answer shapes and fault strings
(docs/omie.md#evidence). Shapes not seen in any source are marked UNVERIFIED in the docs; the
fake keeps them close to the recorded ones so the client's parsing is exercised.

Business failures come as HTTP 200 with ``cCodStatus``/``codigo_status`` ≠ "0" (invalid CPF/CNPJ),
or as HTTP 500 faults (not found, duplicate key, already billed…), as Omie does.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.br import cnpj, cpf

from sandbox.fake_omie.documents import obter_nfse
from sandbox.fake_omie.gates import fault
from sandbox.fake_omie.models import (
    CUSTOMER_ID_BASE,
    NFSE_NUMBER_BASE,
    OS_ID_BASE,
    FakeCustomer,
    FakeNfse,
    FakeOmieConfig,
    FakeServiceOrder,
)
from sandbox.fake_omie.webhooks import nfse_event, os_event, webhook_emit

Answer = tuple[int, dict[str, Any]]
MAX_PAGE_SIZE = 500


class Fault(Exception):
    def __init__(self, code: str, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.answer: Answer = (status, fault(code, message))


def required(param: dict, *names: str) -> None:
    for name in names:
        if param.get(name) in (None, "", []):
            raise Fault("SOAP-ENV:Client-1000", f"O preenchimento da tag [{name}] é obrigatório!")


def compact_document(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value or "").upper()


def valid_document(value: str) -> bool:
    doc = compact_document(value)
    return (len(doc) == 11 and cpf.is_valid(doc)) or (len(doc) == 14 and cnpj.is_valid(doc))


def _fmt_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return value.strftime("%d/%m/%Y")


def _parse_date(value: Any) -> date | None:
    try:
        return datetime.strptime(str(value), "%d/%m/%Y").date()
    except ValueError:
        return None


# customers ------------------------------------------------------------------------------------
def upsert_cliente(param: dict, config: FakeOmieConfig) -> Answer:
    required(param, "codigo_cliente_integracao", "razao_social", "cnpj_cpf")
    key = str(param["codigo_cliente_integracao"])
    doc = compact_document(str(param["cnpj_cpf"]))
    if not valid_document(doc):
        return 200, {"codigo_cliente_omie": 0, "codigo_cliente_integracao": key, "codigo_status": "101",
                     "descricao_status": f"O CPF/CNPJ [{param['cnpj_cpf']}] informado é inválido!"}
    fields = {
        "cnpj_cpf": doc,
        "razao_social": str(param["razao_social"])[:120],
        "nome_fantasia": str(param.get("nome_fantasia") or "")[:120],
        "email": str(param.get("email") or "")[:255],
        "data": param,
    }
    with transaction.atomic():
        other = FakeCustomer.objects.filter(cnpj_cpf=doc).exclude(codigo_cliente_integracao=key).first()
        if other is not None:
            raise duplicate_document(other)
        customer, created = FakeCustomer.objects.update_or_create(codigo_cliente_integracao=key, defaults=fields)
    return 200, {"codigo_cliente_omie": customer.codigo_cliente_omie, "codigo_cliente_integracao": key, "codigo_status": "0",
                 "descricao_status": "Cliente cadastrado com sucesso!" if created else "Cliente alterado com sucesso!"}


def formatted_document(doc: str) -> str:
    """The document as Omie writes it in its messages (``39.330.543/0001-02``)."""
    doc = compact_document(doc)
    if len(doc) == 11 and cpf.is_valid(doc):
        return cpf.format(doc)
    return cnpj.format(doc) if len(doc) == 14 and cnpj.is_valid(doc) else doc


def duplicate_document(other: FakeCustomer) -> Fault:
    """Omie's real text for a document another record holds: the Id and that record's code, or
    ``[ ]`` when it has none (a customer registered by hand). The fault code is not shown in the
    real capture; Client-102 is the one Omie uses for the other "já cadastrado" texts."""
    code = other.codigo_cliente_integracao or " "
    return Fault("SOAP-ENV:Client-102", f"Cliente já cadastrado para o CPF/CNPJ [{formatted_document(other.cnpj_cpf)}] com o Id "
                                        f"[{other.codigo_cliente_omie}] e código de integração [{code}] ! (add)")


def associar_cod_int_cliente(param: dict, config: FakeOmieConfig) -> Answer:
    """Gives a customer without an integration code one. The success answer is Omie's recorded
    one; the refusals' texts are not sourced: unknown id → Client-105's real wording, a code
    already in use → Client-102's real wording, a customer that already has another code → an
    invented business refusal (HTTP 500, not "já cadastrado", so it never reads as a duplicate)."""
    required(param, "codigo_cliente_omie", "codigo_cliente_integracao")
    key = str(param["codigo_cliente_integracao"])
    with transaction.atomic():
        customer = _customer_by_omie_id(param["codigo_cliente_omie"], for_update=True)
        if customer is None:
            raise Fault("SOAP-ENV:Client-105", f"Cliente não cadastrado para o Código [{param['codigo_cliente_omie']}] !")
        holder = FakeCustomer.objects.filter(codigo_cliente_integracao=key).exclude(pk=customer.pk).first()
        if holder is not None:
            raise Fault("SOAP-ENV:Client-102", f"Cliente já cadastrado para o Código de Integração [{key}] com o nCod "
                                               f"[{holder.codigo_cliente_omie}] !")
        if customer.codigo_cliente_integracao not in (None, "", key):
            # UNSOURCED: text and fault code invented (no capture of this refusal is known).
            raise Fault("SOAP-ENV:Client-143", f"O cliente [{customer.codigo_cliente_omie}] já possui o código de integração "
                                               f"[{customer.codigo_cliente_integracao}]!")
        customer.codigo_cliente_integracao = key
        customer.save(update_fields=["codigo_cliente_integracao", "updated_at"])
    return 200, {"codigo_cliente_omie": customer.codigo_cliente_omie, "codigo_cliente_integracao": key, "codigo_status": "0",
                 "descricao_status": "Código de Integração associado ao Cliente sucesso!"}


def listar_clientes(param: dict, config: FakeOmieConfig) -> Answer:
    """``clientesFiltro`` by ``cnpj_cpf`` (punctuated or bare), ``codigo_cliente_omie`` or
    ``codigo_cliente_integracao``; ``apenas_importado_api`` "S" leaves out hand-registered ones."""
    page, size = _page(param, "pagina", "registros_por_pagina")
    qs = FakeCustomer.objects.order_by("id")
    wanted = param.get("clientesFiltro") if isinstance(param.get("clientesFiltro"), dict) else {}
    if wanted.get("cnpj_cpf"):
        qs = qs.filter(cnpj_cpf=compact_document(str(wanted["cnpj_cpf"])))
    if wanted.get("codigo_cliente_integracao"):
        qs = qs.filter(codigo_cliente_integracao=str(wanted["codigo_cliente_integracao"]))
    if wanted.get("codigo_cliente_omie"):
        found = _customer_by_omie_id(wanted["codigo_cliente_omie"])
        qs = qs.filter(pk=found.pk) if found else qs.none()
    if str(param.get("apenas_importado_api") or "").upper() == "S":
        qs = qs.exclude(codigo_cliente_integracao__isnull=True)
    items, total, pages = _page_items(qs, page, size)
    return 200, {"pagina": page, "total_de_paginas": pages, "registros": len(items), "total_de_registros": total,
                 "clientes_cadastro": [_cliente_record(c) for c in items]}


def _cliente_record(customer: FakeCustomer) -> dict[str, Any]:
    data = dict(customer.data)
    data.update({
        "codigo_cliente_omie": customer.codigo_cliente_omie,
        "codigo_cliente_integracao": customer.codigo_cliente_integracao or "",
        "cnpj_cpf": formatted_document(customer.cnpj_cpf),
        "razao_social": customer.razao_social,
        "nome_fantasia": customer.nome_fantasia,
        "email": customer.email,
        "info": {"dInc": _fmt_date(customer.created_at), "dAlt": _fmt_date(customer.updated_at),
                 "cImpAPI": "N" if customer.codigo_cliente_integracao is None else "S"},
    })
    return data


def consultar_cliente(param: dict, config: FakeOmieConfig) -> Answer:
    customer, label = None, ""
    if param.get("codigo_cliente_integracao"):
        label = f"de Integração [{param['codigo_cliente_integracao']}]"
        customer = FakeCustomer.objects.filter(codigo_cliente_integracao=str(param["codigo_cliente_integracao"])).first()
    elif param.get("codigo_cliente_omie"):
        label = f"[{param['codigo_cliente_omie']}]"
        customer = _customer_by_omie_id(param["codigo_cliente_omie"])
    else:
        required(param, "codigo_cliente_omie")
    if customer is None:
        raise Fault("SOAP-ENV:Client-105", f"Cliente não cadastrado para o Código {label} !")
    data = dict(customer.data)
    data.update({
        "codigo_cliente_omie": customer.codigo_cliente_omie,
        "codigo_cliente_integracao": customer.codigo_cliente_integracao or "",
        "razao_social": customer.razao_social,
        "nome_fantasia": customer.nome_fantasia,
        "email": customer.email,
        "info": {"dInc": _fmt_date(customer.created_at), "dAlt": _fmt_date(customer.updated_at),
                 "cImpAPI": "N" if customer.codigo_cliente_integracao is None else "S"},
    })
    return 200, data


def _customer_by_omie_id(value: Any, *, for_update: bool = False) -> FakeCustomer | None:
    try:
        qs = FakeCustomer.objects.select_for_update() if for_update else FakeCustomer.objects
        return qs.filter(pk=int(value) - CUSTOMER_ID_BASE).first()
    except (TypeError, ValueError):
        return None


# service orders -------------------------------------------------------------------------------
def incluir_os(param: dict, config: FakeOmieConfig) -> Answer:
    head = param.get("Cabecalho") or {}
    if not isinstance(head, dict):
        raise Fault("SOAP-ENV:Client-5001", "Tag [Cabecalho] não faz parte da estrutura do tipo [os_cadastro]!")
    required(head, "cCodIntOS", "nCodCli", "dDtPrevisao")
    lines = param.get("ServicosPrestados") or []
    if not lines:
        required(param, "ServicosPrestados")
    amount = Decimal(0)
    for line in lines:
        try:
            amount += Decimal(str(line.get("nValUnit"))) * Decimal(str(line.get("nQtde") or 1))
        except (InvalidOperation, TypeError) as exc:
            raise Fault("SOAP-ENV:Client-3102", "O valor da tag [nValUnit] é inválido!") from exc
    if amount <= 0:
        raise Fault("SOAP-ENV:Client-3102", "O valor total da Ordem de Serviço deve ser maior que zero!")
    customer = _customer_by_omie_id(head["nCodCli"])
    if customer is None:
        raise Fault("SOAP-ENV:Client-105", f"Cliente não cadastrado para o Código [{head['nCodCli']}] !")
    if not valid_document(customer.cnpj_cpf):
        return 200, {"cCodIntOS": head["cCodIntOS"], "nCodOS": 0, "cNumOS": "", "cCodStatus": "1",
                     "cDescStatus": "Não foi possível incluir a Ordem de Serviço! O CNPJ/CPF deste cliente está inválido."}
    key = str(head["cCodIntOS"])
    with transaction.atomic():
        existing = FakeServiceOrder.objects.filter(c_cod_int_os=key).first()
        if existing is not None:
            raise Fault("SOAP-ENV:Client-102", f"Ordem de Serviço já cadastrada para o Código de Integração [{key}] "
                                               f"com o nCodOS [{existing.n_cod_os}] !")
        order = FakeServiceOrder.objects.create(c_cod_int_os=key, customer=customer, amount=amount.quantize(Decimal("0.01")),
                                                etapa=str(head.get("cEtapa") or "20"), payload=param)
    return 200, {"cCodIntOS": key, "nCodOS": order.n_cod_os, "cNumOS": order.c_num_os, "cCodStatus": "0",
                 "cDescStatus": "Ordem de Serviço cadastrada com sucesso!"}


def _find_os(param: dict, *, for_update: bool = False) -> FakeServiceOrder:
    qs = FakeServiceOrder.objects.select_related("customer").filter(deleted_at__isnull=True)
    if for_update:
        qs = qs.select_for_update()
    if param.get("cCodIntOS"):
        order, label = qs.filter(c_cod_int_os=str(param["cCodIntOS"])).first(), f"Código de Integração [{param['cCodIntOS']}]"
    elif param.get("nCodOS"):
        try:
            order = qs.filter(pk=int(param["nCodOS"]) - OS_ID_BASE).first()
        except (TypeError, ValueError):
            order = None
        label = f"Código [{param['nCodOS']}]"
    elif param.get("cNumOS"):
        try:
            order = qs.filter(pk=int(str(param["cNumOS"]))).first()
        except ValueError:
            order = None
        label = f"Número [{param['cNumOS']}]"
    else:
        raise Fault("SOAP-ENV:Client-1000", "O preenchimento da tag [nCodOS] ou [cCodIntOS] é obrigatório!")
    if order is None:
        raise Fault("SOAP-ENV:Client-103", f"OS não cadastrada para o {label} !")
    return order


def os_record(order: FakeServiceOrder) -> dict[str, Any]:
    payload = order.payload or {}
    head = dict(payload.get("Cabecalho") or {})
    head.update({"cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cNumOS": order.c_num_os, "cEtapa": order.etapa,
                 "nCodCli": order.customer.codigo_cliente_omie, "nValorTotal": float(order.amount)})
    billed = timezone.localtime(order.billed_at) if order.billed_at else None
    return {
        "Cabecalho": head,
        "InfoCadastro": {
            "cFaturada": "S" if order.faturada else "N",
            "cCancelada": "S" if order.cancelada else "N",
            "dDtInc": _fmt_date(order.created_at),
            "cHrInc": timezone.localtime(order.created_at).strftime("%H:%M:%S"),
            "dDtAlt": _fmt_date(order.updated_at),
            "dDtFat": _fmt_date(billed) if billed else "",
            "cHrFat": billed.strftime("%H:%M:%S") if billed else "",
            "cAmbiente": "H",
        },
        "Departamentos": payload.get("Departamentos") or [],
        "Email": payload.get("Email") or {},
        "InformacoesAdicionais": payload.get("InformacoesAdicionais") or {},
        "ServicosPrestados": payload.get("ServicosPrestados") or [],
    }


def consultar_os(param: dict, config: FakeOmieConfig) -> Answer:
    return 200, os_record(_find_os(param))


def resolve_due_nfse(config: FakeOmieConfig, *, order_ids: list[int] | None = None) -> None:
    """The city hall answers: pending NFS-e whose time has come become issued or rejected."""
    now = timezone.now()
    with transaction.atomic():
        due = FakeNfse.objects.select_for_update().select_related("service_order__customer").filter(
            status=FakeNfse.Status.PENDING, ready_at__lte=now)
        if order_ids is not None:
            due = due.filter(service_order_id__in=order_ids)
        rejected_docs = {compact_document(d) for d in config.reject_documents or []}
        for nfse in due:
            if nfse.service_order.customer.cnpj_cpf in rejected_docs:
                nfse.status, nfse.message = FakeNfse.Status.REJECTED, config.rejection_message
            else:
                nfse.status, nfse.message = FakeNfse.Status.ISSUED, ""
                nfse.number = NFSE_NUMBER_BASE + nfse.pk
                nfse.verification_code = secrets.token_hex(4).upper()
                nfse.url = f"https://nfse.example.invalid/nfse/{nfse.number}?cv={nfse.verification_code}"
                nfse.issued_at = nfse.ready_at
            nfse.save()
            if nfse.status == FakeNfse.Status.ISSUED:
                webhook_emit(config, "NFSe.NotaAutorizada", nfse_event(config, nfse))


def status_os(param: dict, config: FakeOmieConfig) -> Answer:
    """StatusOS as Omie documents it: the OS fields at the top, one ``ListaRpsNfse[]`` item per RPS
    sent (an OS not billed has none), the city hall's messages nested in each item."""
    order = _find_os(param)
    resolve_due_nfse(config, order_ids=[order.pk])
    billed = timezone.localtime(order.billed_at) if order.billed_at else None
    cancelled = timezone.localtime(order.cancelled_at) if order.cancelled_at else None
    body: dict[str, Any] = {
        "cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cNumOS": order.c_num_os, "cEtapa": order.etapa,
        "cCancelada": "S" if order.cancelada else "N", "cFaturada": "S" if order.faturada else "N", "cAmbiente": "H",
        "dDtInc": _fmt_date(order.created_at), "cHrInc": timezone.localtime(order.created_at).strftime("%H:%M:%S"),
        "dDtFat": _fmt_date(billed), "cHrFat": billed.strftime("%H:%M:%S") if billed else "",
        "dDtCanc": _fmt_date(cancelled), "cHrCanc": cancelled.strftime("%H:%M:%S") if cancelled else "",
        "nValorTot": float(order.amount), "ListaRpsNfse": [],
    }
    nfse = FakeNfse.objects.filter(service_order=order).first()
    if nfse is not None:
        all_messages = _true(param.get("lMsg"))
        body["ListaRpsNfse"] = [*(_rps_item(nfse, old, all_messages) for old in nfse.history), _rps_item(nfse, None, all_messages)]
        if _true(param.get("lPdfDest")) and nfse.status in (FakeNfse.Status.ISSUED, FakeNfse.Status.CANCELLED):
            body["ListaRpsNfse"][-1]["cUrlPdfDest"] = f"{nfse.url}&pdf=1"
    return 200, body


RPS_CODES = {FakeNfse.Status.PENDING: "002", FakeNfse.Status.REJECTED: "003", FakeNfse.Status.ISSUED: "004",
             FakeNfse.Status.CANCELLED: "005"}


def _true(value: Any) -> bool:
    return value is True or str(value).upper() in {"S", "TRUE"}


def _rps_item(nfse: FakeNfse, old: dict[str, Any] | None, all_messages: bool) -> dict[str, Any]:
    """One ``ListaRpsNfse[]`` item: the current RPS (``old`` None) or an earlier rejected one."""
    status = FakeNfse.Status.REJECTED if old else nfse.status
    code = RPS_CODES[status]
    item: dict[str, Any] = {
        "nLote": (old or {}).get("lote", nfse.attempts), "cStatusLote": code, "cProtocolo": f"PROT{nfse.pk:08d}{nfse.attempts}",
        "nRps": str((old or {}).get("rps", nfse.rps_number)), "cStatusRps": code, "nNfse": "", "cCodVerif": "",
        "cCNPJ": "11222333000181", "cInscrMunicipal": 1234567, "mensagens": [], "cUrlNfse": "",
    }
    message = (old or {}).get("message", nfse.message)
    if status == FakeNfse.Status.REJECTED and message:
        item["mensagens"] = [_message(message, all_messages)]
    if status in (FakeNfse.Status.ISSUED, FakeNfse.Status.CANCELLED) and nfse.number:
        item.update({"nNfse": str(nfse.number), "cCodVerif": nfse.verification_code, "cUrlNfse": nfse.url})
    return item


def _message(text: str, all_fields: bool) -> dict[str, Any]:
    """A city-hall error: the fake's configured text is "CODE - description"."""
    code, _, description = text.partition(" - ")
    message: dict[str, Any] = {"cCodigo": code if description else "", "cDescricao": description or text,
                               "cCorrecao": "Corrija o cadastro indicado e reenvie o RPS."}
    if all_fields:  # documented as returned only when lMsg is true
        now = timezone.localtime()
        message.update({"cSituacao": "ERRO", "cAnexo": "N", "dData": now.strftime("%d/%m/%Y"), "hHora": now.strftime("%H:%M:%S")})
    return message


def faturar_os(param: dict, config: FakeOmieConfig) -> Answer:
    with transaction.atomic():
        order = _find_os(param, for_update=True)
        if order.cancelada:
            raise Fault("SOAP-ENV:Client-101", f"A Ordem de Serviço [{order.c_num_os}] está cancelada e não pode ser faturada!")
        if order.faturada:
            raise Fault("SOAP-ENV:Client-101", f"A Ordem de Serviço [{order.c_num_os}] já foi faturada!")
        if not valid_document(order.customer.cnpj_cpf):
            return 200, {"cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cCodStatus": "1",
                         "cDescStatus": "Não foi possível realizar o faturamento dessa Ordem de Serviço! O CNPJ/CPF deste "
                                        "cliente está inválido."}
        now = timezone.now()
        order.faturada, order.billed_at = True, now
        order.save(update_fields=["faturada", "billed_at", "updated_at"])
        nfse = FakeNfse.objects.create(service_order=order, ready_at=now + timedelta(seconds=config.scaled(config.nfse_delay_seconds)))
        FakeNfse.objects.filter(pk=nfse.pk).update(rps_number=nfse.pk)
        webhook_emit(config, "OrdemServico.Faturada", os_event(config, order))
    return 200, {"cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cCodStatus": "0",
                 "cDescStatus": "Ordem de Serviço faturada com sucesso!"}


def cancelar_os(param: dict, config: FakeOmieConfig) -> Answer:
    with transaction.atomic():
        order = _find_os(param, for_update=True)
        if order.cancelada:
            raise Fault("SOAP-ENV:Client-101", f"A Ordem de Serviço [{order.c_num_os}] já está cancelada!")
        order.cancelada, order.cancelled_at = True, timezone.now()
        order.save(update_fields=["cancelada", "cancelled_at", "updated_at"])
        nfse_cancel_and_notify(config, order)
        webhook_emit(config, "OrdemServico.Cancelada", os_event(config, order))
    return 200, {"cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cCodStatus": "0",
                 "cDescStatus": "Ordem de Serviço cancelada com sucesso!"}


def nfse_cancel_and_notify(config: FakeOmieConfig, order: FakeServiceOrder) -> None:
    """The OS's NFS-e is cancelled (CancelarOS, or someone in Omie's screen): NFSe.NotaCancelada is sent."""
    for nfse in FakeNfse.objects.select_for_update().select_related("service_order").filter(service_order=order):
        was_issued = nfse.status == FakeNfse.Status.ISSUED
        nfse.status = FakeNfse.Status.CANCELLED
        nfse.save(update_fields=["status"])
        if was_issued:
            webhook_emit(config, "NFSe.NotaCancelada", nfse_event(config, nfse))


def reenviar_os(param: dict, config: FakeOmieConfig) -> Answer:
    order = _find_os(param)
    resolve_due_nfse(config, order_ids=[order.pk])
    with transaction.atomic():
        nfse = FakeNfse.objects.select_for_update().filter(service_order=order).first()
        if nfse is None:
            raise Fault("SOAP-ENV:Client-101", f"A Ordem de Serviço [{order.c_num_os}] não foi faturada!")
        if nfse.status != FakeNfse.Status.REJECTED:
            raise Fault("SOAP-ENV:Client-101", f"A NFS-e da Ordem de Serviço [{order.c_num_os}] não está rejeitada!")
        nfse.history = [*nfse.history, {"lote": nfse.attempts, "rps": nfse.rps_number, "message": nfse.message}]
        nfse.status, nfse.message, nfse.attempts = FakeNfse.Status.PENDING, "", nfse.attempts + 1
        nfse.rps_number = nfse.rps_number + 100_000
        nfse.ready_at = timezone.now() + timedelta(seconds=config.scaled(config.nfse_delay_seconds))
        nfse.save()
    return 200, {"cCodIntOS": order.c_cod_int_os, "nCodOS": order.n_cod_os, "cCodStatus": "0",
                 "cDescStatus": "RPS reenviado para a prefeitura com sucesso!"}


# lists ----------------------------------------------------------------------------------------
def _page(param: dict, page_key: str, size_key: str) -> tuple[int, int]:
    try:
        page = max(1, int(param.get(page_key) or 1))
        size = min(MAX_PAGE_SIZE, max(1, int(param.get(size_key) or 50)))
    except (TypeError, ValueError) as exc:
        raise Fault("SOAP-ENV:Client-3102", f"O valor da tag [{page_key}] é inválido!") from exc
    return page, size


def _page_items(qs: Any, page: int, size: int) -> tuple[list[Any], int, int]:
    """One page of a list call, or Omie's "no records" fault for an empty list or a page past the end."""
    total = qs.count()
    pages = math.ceil(total / size)
    if page > pages:
        raise _past_end(page)
    return list(qs[(page - 1) * size : page * size]), total, pages


def _past_end(page: int) -> Fault:
    return Fault("SOAP-ENV:Client-5113", f"Não existem registros para a página [{page}]!")


def listar_os(param: dict, config: FakeOmieConfig) -> Answer:
    page, size = _page(param, "pagina", "registros_por_pagina")
    qs = FakeServiceOrder.objects.select_related("customer").order_by("id")
    if param.get("filtrar_por_cliente"):
        customer = _customer_by_omie_id(param["filtrar_por_cliente"])
        qs = qs.filter(customer=customer) if customer else qs.none()
    if param.get("filtrar_por_etapa"):
        qs = qs.filter(etapa=str(param["filtrar_por_etapa"]))
    for key, lookup in (("filtrar_por_data_de", "created_at__date__gte"), ("filtrar_por_data_ate", "created_at__date__lte"),
                        ("filtrar_por_data_faturamento_de", "billed_at__date__gte"),
                        ("filtrar_por_data_faturamento_ate", "billed_at__date__lte")):
        if param.get(key):
            day = _parse_date(param[key])
            if day is None:
                raise Fault("SOAP-ENV:Client-3102", f"O valor da tag [{key}] é inválido!")
            qs = qs.filter(**{lookup: day})
    items, total, pages = _page_items(qs, page, size)
    return 200, {"pagina": page, "total_de_paginas": pages, "registros": len(items), "total_de_registros": total,
                 "osCadastro": [os_record(o) for o in items]}


def listar_nfses(param: dict, config: FakeOmieConfig) -> Answer:
    """ListarNFSEs: only NFS-e the city hall authorized (F) or that were cancelled (C); a rejected or
    pending RPS is not an NFS-e. Filters by ``nCodigoOS``, number, client, status and emission date."""
    page, size = _page(param, "nPagina", "nRegPorPagina")
    resolve_due_nfse(config)
    qs = (FakeNfse.objects.select_related("service_order__customer")
          .filter(status__in=[FakeNfse.Status.ISSUED, FakeNfse.Status.CANCELLED]).order_by("id"))
    if param.get("nCodigoOS"):
        try:
            qs = qs.filter(service_order_id=int(param["nCodigoOS"]) - OS_ID_BASE)
        except (TypeError, ValueError):
            qs = qs.none()
    if param.get("nNumeroNFSe"):
        number = str(param["nNumeroNFSe"]).lstrip("0")
        qs = qs.filter(number=int(number)) if number.isdigit() else qs.none()
    if param.get("nCodigoCliente"):
        customer = _customer_by_omie_id(param["nCodigoCliente"])
        qs = qs.filter(service_order__customer=customer) if customer else qs.none()
    status_letters = {"F": FakeNfse.Status.ISSUED, "C": FakeNfse.Status.CANCELLED}
    if param.get("cStatusNFSe"):
        qs = qs.filter(status=status_letters.get(str(param["cStatusNFSe"]).upper(), "-"))
    for key, lookup in (("dEmiInicial", "issued_at__date__gte"), ("dEmiFinal", "issued_at__date__lte")):
        if param.get(key):
            day = _parse_date(param[key])
            if day is None:
                raise Fault("SOAP-ENV:Client-3102", f"O valor da tag [{key}] é inválido!")
            qs = qs.filter(**{lookup: day})
    items, total, pages = _page_items(qs, page, size)
    letters = {v: k for k, v in status_letters.items()}
    return 200, {"nPagina": page, "nTotPaginas": pages, "nRegistros": len(items), "nTotRegistros": total,
                 "nfseEncontradas": [_nfse_record(n, letters[n.status]) for n in items]}


def _nfse_record(nfse: FakeNfse, letter: str) -> dict[str, Any]:
    """One ``nfseEncontradas[]`` item in Omie's blocks; no integration key (the list has none)."""
    order = nfse.service_order
    issued = timezone.localtime(nfse.issued_at) if nfse.issued_at else None
    return {
        "Cabecalho": {"nNumeroNFSe": str(nfse.number or ""), "cSerieNFSe": "1", "cStatusNFSe": letter, "cAmbienteNFSe": "H",
                      "nCodNF": nfse.pk, "nValorNFSe": float(order.amount), "cCodigoVerifNFSe": nfse.verification_code,
                      "cCidadeEmissor": "SAO PAULO (SP)", "cCNPJEmissor": "11.222.333/0001-81",
                      "nCodigoCliente": order.customer.codigo_cliente_omie},
        "OrdemServico": {"nCodigoOS": order.n_cod_os, "nNumeroOS": str(order.pk), "nValorOS": float(order.amount)},
        "RPS": {"nNumeroLote": nfse.attempts, "nStatusLote": "004", "nNumeroRPS": str(nfse.rps_number), "cStatusRPS": "004"},
        "Emissao": {"cDataEmissao": issued.strftime("%d/%m/%Y") if issued else "",
                    "cHoraEmissao": issued.strftime("%H:%M:%S") if issued else "", "cUsuarioEmissao": "WEBSERVICE"},
        "Cancelamento": {"cDataCancelamento": _fmt_date(order.cancelled_at)} if letter == "C" else {},
        "Valores": {"nValorTotalServicos": float(order.amount), "nValorLiquido": float(order.amount)},
    }


HANDLERS: dict[str, Callable[[dict, FakeOmieConfig], Answer]] = {
    "UpsertCliente": upsert_cliente,
    "ConsultarCliente": consultar_cliente,
    "AssociarCodIntCliente": associar_cod_int_cliente,
    "ListarClientes": listar_clientes,
    "IncluirOS": incluir_os,
    "ConsultarOS": consultar_os,
    "StatusOS": status_os,
    "ListarOS": listar_os,
    "FaturarOS": faturar_os,
    "CancelarOS": cancelar_os,
    "ReenviarOS": reenviar_os,
    "ListarNFSEs": listar_nfses,
    "ObterNFSe": obter_nfse,
}
