"""Reads one Omie answer into one of the answer classes of docs/omie.md#classification-classifypy.

The HTTP status alone says little: business errors come as 200 with ``cCodStatus`` ≠ "0", "not
found" and "no records" as 500, and Client-102 is reused for many validation faults, so duplicates
are recognised by their text. The fault strings matched here are the real ones quoted in
docs/omie.md#evidence. The order of the checks matters: a ban or a REDUNDANT answer can
carry any fault code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone

from integrations.omie.types import CallClass, ExistingCustomer, Outcome

_CLIENT_CODE = re.compile(r"Client-(\d+)", re.IGNORECASE)
_WAIT_SECONDS = re.compile(r"Aguarde\s+(\d+)\s+segundo", re.IGNORECASE)
_RETRY_IN_SECONDS = re.compile(r"Tente\s+novamente\s+em\s+(\d+)\s+segundo", re.IGNORECASE)
_RETRY_AT_TIME = re.compile(r"(?:às|as)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?", re.IGNORECASE)
_EXISTING_ID = re.compile(r"\b(?:nCod\w*|Id|codigo_cliente_omie)\s*\[\s*(\d+)\s*\]", re.IGNORECASE)

# "Cliente já cadastrado …" in its three known wordings (docs/orders.md#customers-already-in-omie):
# by document (current: Id and integration code, "[ ]" when the record has none), by integration
# code (Client-102, "nCod"), and the older one with only "o código [n]".
_CUSTOMER_BY_DOCUMENT = re.compile(
    r"CPF/CNPJ\s*\[(?P<doc>[^\]]*)\]\s*com\s+o\s+Id\s*\[\s*(?P<id>\d+)\s*\]"
    r"(?:\s*e\s+c[óo]digo\s+de\s+integra[çc][ãa]o\s*\[(?P<code>[^\]]*)\])?", re.IGNORECASE)
_CUSTOMER_BY_KEY = re.compile(
    r"C[óo]digo\s+de\s+Integra[çc][ãa]o\s*\[(?P<code>[^\]]*)\]\s*com\s+o\s+nCod\s*\[\s*(?P<id>\d+)\s*\]", re.IGNORECASE)
_CUSTOMER_EXISTS = re.compile(r"Cliente\s+j[áa]\s+cadastrad", re.IGNORECASE)
_CUSTOMER_OLD = re.compile(r"Cliente\s+j[áa]\s+cadastrado\s+para\s+o\s+c[óo]digo\s*\[\s*(?P<id>\d+)\s*\]", re.IGNORECASE)

NOT_FOUND_CODES = frozenset({103, 105, 5113})
CONCURRENT_CODES = frozenset({1880, 1100})


def clean_message(text: str) -> str:
    """Omie's fault text without the "ERROR: " prefix and the surrounding blanks."""
    text = (text or "").strip()
    if text.upper().startswith("ERROR:"):
        text = text[len("ERROR:") :].strip()
    return text


def classify(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Outcome:
    """Classifies an HTTP answer. ``body`` is the decoded JSON, or None when it was not JSON."""
    headers = headers or {}
    request_id = headers.get("x-omie-request-id", "") or ""
    api_error = (headers.get("OmieAPI-Error") or headers.get("omieapi-error") or "").strip()
    base: dict[str, Any] = {"http_status": status, "body": body, "request_id": request_id}

    fault = body if isinstance(body, dict) and ("faultstring" in body or "faultcode" in body) else None
    message = clean_message(str(fault.get("faultstring", ""))) if fault else ""
    fault_code = str(fault.get("faultcode", "")) if fault else ""
    lower = message.lower()

    if status == 425 or fault_code.upper() == "MISUSE_API_PROCESS" or "consumo indevido" in lower:
        match = _RETRY_IN_SECONDS.search(message)
        return Outcome(CallClass.BANNED, fault_code=fault_code or "425", message=message or "API bloqueada (HTTP 425)",
                       wait_seconds=float(match.group(1)) if match else None, **base)
    if status == 429:
        retry_after = _retry_after_header(headers)
        return Outcome(CallClass.RATE_LIMITED, fault_code=fault_code or "429", message=message or "Too many requests (HTTP 429)",
                       wait_seconds=retry_after, **base)
    if not isinstance(body, dict):
        kind = "corpo não JSON" if body is None else "resposta JSON inesperada"
        if 400 <= status < 500 and status != 408:
            # A wrong URL or a refused credential answered by the gateway: retrying cannot help.
            return Outcome(CallClass.BUSINESS, fault_code=str(status), message=f"Omie respondeu HTTP {status} ({kind})", **base)
        # HTML error pages, truncated or empty bodies: the gateway or the application broke.
        return Outcome(CallClass.TRANSIENT, message=f"Resposta inválida do Omie (HTTP {status}, {kind})", **base)

    if fault is not None:
        return _classify_fault(status, fault_code, message, api_error, base)
    if status >= 500 or status == 408:
        return Outcome(CallClass.TRANSIENT, message=f"Erro do Omie (HTTP {status})", **base)
    if status >= 300:
        # A wrong URL or credentials problem answered by the gateway: retrying cannot help.
        return Outcome(CallClass.BUSINESS, fault_code=str(status), message=f"Omie respondeu HTTP {status}", **base)

    for code_key, text_key in (("cCodStatus", "cDescStatus"), ("codigo_status", "descricao_status")):
        if code_key in body and str(body.get(code_key, "")).strip() not in {"", "0"}:
            # ObterNFSe (osdocs) spells its description cDesStatus.
            text = clean_message(str(body.get(text_key, "") or body.get("cDesStatus", "")))
            return Outcome(CallClass.BUSINESS, fault_code=f"{code_key}={str(body[code_key]).strip()}",
                           message=text or "Omie recusou a requisição", **base)
    return Outcome(CallClass.OK, **base)


def _classify_fault(status: int, fault_code: str, message: str, api_error: str, base: dict[str, Any]) -> Outcome:
    lower = message.lower()
    code_match = _CLIENT_CODE.search(fault_code)
    code = int(code_match.group(1)) if code_match else None

    if "redundant" in lower or "consumo redundante" in lower or api_error.startswith("6 "):
        match = _WAIT_SECONDS.search(message)
        return Outcome(CallClass.REDUNDANT, fault_code=fault_code, message=message,
                       wait_seconds=float(match.group(1)) if match else None, **base)
    if code in CONCURRENT_CODES or api_error.startswith("1880") or "sendo executada" in lower or "sendo processada" in lower:
        wait = _seconds_until_time(message)
        return Outcome(CallClass.CONCURRENT, fault_code=fault_code, message=message, wait_seconds=wait, **base)
    if "broken response" in lower or code == 8020 or api_error.startswith("8020") or fault_code.upper().endswith(":SERVER"):
        return Outcome(CallClass.TRANSIENT, fault_code=fault_code, message=message, **base)
    if "já cadastrad" in lower or "ja cadastrad" in lower:
        match = _EXISTING_ID.search(message)
        return Outcome(CallClass.DUPLICATE, fault_code=fault_code, message=message,
                       existing_id=int(match.group(1)) if match else None, **base)
    if code in NOT_FOUND_CODES or "não cadastrad" in lower or "não existem registros" in lower:
        return Outcome(CallClass.NOT_FOUND, fault_code=fault_code, message=message, **base)
    message = message or f"Omie recusou a requisição (HTTP {status})"
    return Outcome(CallClass.BUSINESS, fault_code=fault_code, message=message, **base)


def existing_customer(message: str) -> ExistingCustomer | None:
    """Reads a "Cliente já cadastrado …" fault; None when the text is not one.

    The older wording names a number without saying whose, so it is kept as a hint only
    (``integration_code=None``): the caller looks the customer up by document before trusting it.
    """
    text = clean_message(message)
    if not _CUSTOMER_EXISTS.search(text):
        return None
    if match := _CUSTOMER_BY_DOCUMENT.search(text):
        code = match.group("code")
        return ExistingCustomer(omie_id=int(match.group("id")), integration_code=None if code is None else code.strip(),
                                document=match.group("doc").strip())
    if match := _CUSTOMER_BY_KEY.search(text):
        return ExistingCustomer(omie_id=int(match.group("id")), integration_code=match.group("code").strip())
    if match := _CUSTOMER_OLD.search(text):
        return ExistingCustomer(omie_id=int(match.group("id")), integration_code=None)
    return ExistingCustomer(omie_id=None, integration_code=None)


def _retry_after_header(headers: Mapping[str, str]) -> float | None:
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def _seconds_until_time(message: str) -> float | None:
    """Client-1100's "tentar novamente às HH:MM:SS" (Omie's clock: America/Sao_Paulo) as seconds."""
    match = _RETRY_AT_TIME.search(message)
    if not match:
        return None
    now = timezone.localtime()
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    target = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if target < now - timedelta(hours=12):
        target += timedelta(days=1)  # the time is past midnight
    return max(1.0, (target - now).total_seconds())
