"""Omie's wire format: the JSON we send (exact Decimal amounts, dd/mm/yyyy dates, list filters) and
the records we read back from its answers."""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from common.safe_urls import http_url_or_empty
from integrations.omie.payloads import omie_date
from integrations.omie.types import NfseDocs, NfseInfo, NfseStatus, OSInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")

# Friendly filter names → Omie's (ListarOS / ListarNFSEs). Omie's own names are accepted too.
OS_FILTERS = {
    "cliente": "filtrar_por_cliente",
    "etapa": "filtrar_por_etapa",
    "incluida_de": "filtrar_por_data_de",
    "incluida_ate": "filtrar_por_data_ate",
    "previsao_de": "filtrar_por_data_previsao_de",
    "previsao_ate": "filtrar_por_data_previsao_ate",
    "faturada_de": "filtrar_por_data_faturamento_de",
    "faturada_ate": "filtrar_por_data_faturamento_ate",
    "apenas_importado_api": "apenas_importado_api",
}
NFSE_FILTERS = {
    "n_cod_os": "nCodigoOS",
    "numero": "nNumeroNFSe",
    "cliente": "nCodigoCliente",
    "emitida_de": "dEmiInicial",
    "emitida_ate": "dEmiFinal",
    "status": "cStatusNFSe",
}


_DECIMAL_MARK = f"__omie_decimal_{secrets.token_hex(6)}__"
_DECIMAL_TOKEN = re.compile(rf'"{_DECIMAL_MARK}(-?\d+(?:\.\d+)?)"')


def dumps(body: Any, *, indent: int | None = None) -> str:
    """JSON for Omie. ``Decimal`` amounts become JSON numbers with their exact digits (``1500.10``),
    never passing through float; dates become Omie's dd/mm/yyyy."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("amount is not a finite number")
            return f"{_DECIMAL_MARK}{value:f}"
        if isinstance(value, datetime | date):
            return omie_date(value)
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    return _DECIMAL_TOKEN.sub(r"\1", json.dumps(body, default=default, ensure_ascii=False, indent=indent))



def list_filters(filters: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    omie_names = set(names.values())
    out: dict[str, Any] = {}
    for name, value in filters.items():
        if name not in names and name not in omie_names:
            raise TypeError(f"unknown filter {name!r}; use one of {sorted(names)}")
        if isinstance(value, bool):
            value = "S" if value else "N"
        elif isinstance(value, date):
            value = omie_date(value)
        out[names.get(name, name)] = value
    return out


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> date | None:
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value), fmt).date()
        except ValueError:
            continue
    return None


def os_info(body: dict) -> OSInfo:
    head = body.get("Cabecalho") or {}
    info = body.get("InfoCadastro") or {}
    amount = _decimal(head.get("nValorTotal"))
    if amount is None:
        lines = body.get("ServicosPrestados") or []
        total = sum(((_decimal(s.get("nValUnit")) or Decimal(0)) * Decimal(str(s.get("nQtde") or 1)) for s in lines), Decimal(0))
        amount = total.quantize(Decimal("0.01")) if lines else None
    return OSInfo(
        n_cod_os=int(head.get("nCodOS") or 0),
        c_num_os=str(head.get("cNumOS") or ""),
        c_cod_int_os=str(head.get("cCodIntOS") or ""),
        faturada=str(info.get("cFaturada", "N")).upper() == "S",
        cancelada=str(info.get("cCancelada", "N")).upper() == "S",
        etapa=str(head.get("cEtapa") or ""),
        billed_on=_date(info.get("dDtFat")),
        amount=amount,
        raw=body,
    )


# StatusOS's RPS codes (cStatusRps / cStatusLote): 001 aguardando envio, 002 enviado e aguardando a
# prefeitura, 003 processado com erro, 004 processado com sucesso, 005 cancelado.
RPS_STATE = {"001": "pending", "002": "pending", "003": "rejected", "004": "issued", "005": "cancelled"}


def nfse_status(body: dict) -> NfseStatus:
    """StatusOS read where Omie puts the NFS-e: the OS fields at the top, one item per RPS sent in
    ``ListaRpsNfse[]``. The latest RPS decides (the last one sent: highest lot, then RPS number);
    an OS with no RPS yet is pending, whatever else it says."""
    items = [item for item in body.get("ListaRpsNfse") or [] if isinstance(item, dict)]
    os_cancelled = str(body.get("cCancelada") or "").upper() == "S"
    if not items:
        return NfseStatus(state="cancelled" if os_cancelled else "pending", os_billed=_flag(body.get("cFaturada")),
                          os_cancelled=os_cancelled, raw=body)
    latest = max(enumerate(items), key=lambda pair: (_int(pair[1].get("nLote")), _int(pair[1].get("nRps")), pair[0]))[1]
    rps = str(latest.get("cStatusRps") or "").strip()
    lot = str(latest.get("cStatusLote") or "").strip()
    state = RPS_STATE.get(rps) or RPS_STATE.get(lot) or "pending"
    number = str(latest.get("nNfse") or "").strip().lstrip("0")
    if state == "issued" and not number:
        state = "pending"  # "processed" without a number yet: ask again
    return NfseStatus(
        state=state,
        number=number or None,
        verification_code=str(latest.get("cCodVerif") or "").strip(),
        url=http_url_or_empty(latest.get("cUrlNfse")),
        pdf_url=http_url_or_empty(latest.get("cUrlPdfDest")),
        rps_number=str(latest.get("nRps") or "").strip(),
        rps_status=rps,
        lot_status=lot,
        message=city_hall_messages(latest.get("mensagens")) if state == "rejected" else "",
        os_billed=_flag(body.get("cFaturada")),
        os_cancelled=os_cancelled,
        raw=body,
    )


def city_hall_messages(messages: Any) -> str:
    """``mensagens[]`` of one RPS as ops read it: "E0314 - Descrição (correção: …)"; errors first,
    alerts after, success notes left out."""
    if not isinstance(messages, list):
        return ""
    order = {"ERRO": 0, "ALERTA": 1}
    lines = []
    for item in sorted((m for m in messages if isinstance(m, dict)), key=lambda m: order.get(str(m.get("cSituacao") or "ERRO").upper(), 2)):
        if str(item.get("cSituacao") or "").upper() == "SUCESSO":
            continue
        code, text, fix = (str(item.get(k) or "").strip() for k in ("cCodigo", "cDescricao", "cCorrecao"))
        line = " - ".join(part for part in (code, text) if part)
        if fix:
            line = f"{line} (correção: {fix})" if line else f"Correção: {fix}"
        if line:
            lines.append(line)
    return "; ".join(lines)


def _flag(value: Any) -> bool:
    return str(value or "").strip().upper() == "S"


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def nfse_info(item: dict) -> NfseInfo:
    """One ``nfseEncontradas[]`` item of ListarNFSEs. It has no integration key: the OS is its
    ``OrdemServico.nCodigoOS``. ``cStatusNFSe`` (F faturada, C cancelada, N não faturada) and the
    RPS status are read separately: Omie has answered "N" together with RPS "004"."""
    head = item.get("Cabecalho") or {}
    os_block = item.get("OrdemServico") or {}
    rps = item.get("RPS") or {}
    emission = item.get("Emissao") or {}
    n_cod_os = _int(os_block.get("nCodigoOS"))
    n_cod_nf = _int(head.get("nCodNF"))
    return NfseInfo(
        number=str(head.get("nNumeroNFSe") or "").strip().lstrip("0"),
        status=str(head.get("cStatusNFSe") or "").strip().upper(),
        n_cod_os=n_cod_os or None,
        c_num_os=str(os_block.get("nNumeroOS") or ""),
        c_cod_int_os="",
        verification_code=str(head.get("cCodigoVerifNFSe") or ""),
        amount=_decimal(head.get("nValorNFSe")),
        issued_on=_date(emission.get("cDataEmissao")),
        n_cod_nf=n_cod_nf or None,
        rps_status=str(rps.get("cStatusRPS") or "").strip(),
        raw=item,
        issued_at=_issued_at(emission),
    )


def nfse_docs(body: dict) -> NfseDocs:
    """ObterNFSe's answer (all strings). Links other than http(s) are dropped; ``cXmlNFSe`` is kept
    as sent (the XML, or a link the caller downloads)."""
    return NfseDocs(
        number=str(body.get("cNumNFSe") or "").strip().lstrip("0"),
        verification_code=str(body.get("cCodVerif") or "").strip(),
        series=str(body.get("cSerieNFSe") or "").strip(),
        pdf_url=http_url_or_empty(body.get("cPdfNFSe")),
        xml=str(body.get("cXmlNFSe") or "").strip(),
        city_hall_url=http_url_or_empty(body.get("cUrlNFSe")),
        portal_url=http_url_or_empty(body.get("cLinkPortal")),
        raw=body,
    )


def _issued_at(emission: dict) -> datetime | None:
    """The NFS-e's issue moment (Omie lists São Paulo's wall clock: a date and an ``HH:MM:SS``)."""
    day = _date(emission.get("cDataEmissao"))
    if day is None:
        return None
    try:
        clock = datetime.strptime(str(emission.get("cHoraEmissao") or "00:00:00").strip(), "%H:%M:%S").time()
    except ValueError:
        clock = datetime.min.time()
    return datetime.combine(day, clock, tzinfo=SAO_PAULO)
