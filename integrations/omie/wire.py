"""Omie's wire format: the JSON we send (exact Decimal amounts, dd/mm/yyyy dates, list filters) and
the records we read back from its answers."""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from common.safe_urls import http_url_or_empty
from integrations.omie.payloads import omie_date
from integrations.omie.types import NfseInfo, NfseStatus, OSInfo

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


def nfse_status(body: dict) -> NfseStatus:
    rps = str(body.get("cStatusRps") or body.get("cStatusRPS") or "").strip()
    lot = str(body.get("cStatusLote") or "").strip()
    number = str(body.get("nNfse") or "").strip()
    if number in {"", "0"}:
        number = ""
    messages = []
    for key, value in body.items():
        if isinstance(value, list) and ("msg" in key.lower() or "mensag" in key.lower()):
            for item in value:
                if isinstance(item, dict):
                    messages.append(" ".join(str(v) for v in item.values() if v))
    message = "; ".join(messages) or str(body.get("cDescStatus") or "")
    if rps == "004" or number:
        state = "issued"
    elif rps == "003" or lot == "003":
        state = "rejected"
    else:
        state = "pending"
    return NfseStatus(
        state=state,
        number=number or None,
        verification_code=str(body.get("cCodVerif") or ""),
        url=http_url_or_empty(body.get("cUrlNfse")),
        message=message if state == "rejected" else "",
        raw=body,
    )


def nfse_info(item: dict) -> NfseInfo:
    head = item.get("Cabecalho") or {}
    os_block = item.get("OrdemServico") or {}
    emission = item.get("Emissao") or {}
    n_cod_os = os_block.get("nCodigoOS")
    return NfseInfo(
        number=str(head.get("nNumeroNFSe") or ""),
        status=str(head.get("cStatusNFSe") or ""),
        n_cod_os=int(n_cod_os) if n_cod_os else None,
        c_num_os=str(os_block.get("nNumeroOS") or ""),
        c_cod_int_os=str(os_block.get("cCodigoIntegracaoOS") or os_block.get("cCodIntOS") or ""),
        verification_code=str(head.get("cCodigoVerifNFSe") or head.get("cCodVerif") or ""),
        amount=_decimal(head.get("nValorNFSe")),
        issued_on=_date(emission.get("dDataEmisNFSe") or emission.get("dEmiNFSe")),
        raw=item,
    )
