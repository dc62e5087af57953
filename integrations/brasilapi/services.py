"""CNPJ lookup through the 30-day cache, the central rate limit and the false-404 rule (docs/contract.md#sync step 2)."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any, NoReturn

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.backoff import backoff_seconds
from integrations.brasilapi.client import get_brasilapi_client
from integrations.brasilapi.errors import (
    BrasilApiNotNow,
    BrasilApiTransientError,
    CnpjNotFound,
    CnpjNotFoundYet,
    InvalidCnpj,
)
from integrations.brasilapi.models import CompanyRecord
from integrations.brasilapi.ratelimit import get_brasilapi_limiter
from integrations.brasilapi.types import CompanyData
from integrations.documents import InvalidDocument, document_validate

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "CNPJ não encontrado na Receita Federal"
_SITUACAO = {1: "NULA", 2: "ATIVA", 3: "SUSPENSA", 4: "INAPTA", 8: "BAIXADA"}


def cnpj_lookup(*, cnpj: str) -> CompanyData:
    """The company behind ``cnpj`` (masked or compact, alphanumeric accepted).

    Raises ``InvalidCnpj`` / ``CnpjNotFound`` (permanent), ``CnpjNotFoundYet`` / ``BrasilApiTransientError``
    (retry later) or ``BrasilApiNotNow`` (the rate limit: retry after ``retry_after``; nobody sleeps).
    """
    number = _compact_cnpj(cnpj)
    cached = company_cached(cnpj=number)
    if cached is not None:
        return cached
    _take_rate_slot()
    try:
        payload = get_brasilapi_client().get_company(number)
    except BrasilApiTransientError as exc:
        if exc.status == 429:
            # Vercel's mitigation is per source: every process holds off, not only this one.
            pause = max(settings.BRASILAPI_RATE_LIMITED_PAUSE_SECONDS, exc.retry_after or 0.0)
            _pause_rate(pause)
            exc.retry_after = max(exc.retry_after or 0.0, pause)
        raise
    if payload is None:
        _record_not_found(number)  # always raises
    company = company_from_payload(payload, cnpj=number)
    CompanyRecord.objects.update_or_create(
        cnpj=number,
        defaults={
            "data": company.to_json(), "fetched_at": company.fetched_at, "not_found_count": 0, "updated_at": timezone.now(),
        },
    )
    return company


def company_cached(*, cnpj: str) -> CompanyData | None:
    """The cached company when fetched within BRASILAPI_CACHE_DAYS; no HTTP call."""
    fresh_since = timezone.now() - timedelta(days=settings.BRASILAPI_CACHE_DAYS)
    record = CompanyRecord.objects.filter(cnpj=cnpj, fetched_at__gte=fresh_since, data__isnull=False).first()
    return CompanyData.from_json(record.data) if record else None


def company_from_payload(payload: dict[str, Any], *, cnpj: str) -> CompanyData:
    """BrasilAPI's shape (docs/integrations.md#evidence) → ``CompanyData``; empty strings become None."""

    def text(key: str) -> str | None:
        value = payload.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return value.strip() or None if isinstance(value, str) else None

    situacao = (text("descricao_situacao_cadastral") or "").upper() or _SITUACAO.get(payload.get("situacao_cadastral"))  # type: ignore[arg-type]
    street_type, street = text("descricao_tipo_de_logradouro"), text("logradouro")
    if street_type and street and not street.upper().startswith(street_type.upper() + " "):
        street = f"{street_type} {street}"
    cep_digits = "".join(c for c in (text("cep") or "") if c.isdigit())
    email = text("email")
    uf = text("uf")
    return CompanyData(
        cnpj=cnpj,
        razao_social=text("razao_social"),
        nome_fantasia=text("nome_fantasia"),
        situacao_cadastral=situacao,
        is_active=situacao == "ATIVA",
        email=email.lower() if email else None,
        phone=text("ddd_telefone_1"),
        cep=cep_digits.zfill(8) if cep_digits else None,
        logradouro=street,
        numero=text("numero"),
        complemento=text("complemento"),
        bairro=text("bairro"),
        municipio=text("municipio"),
        uf=uf.upper() if uf else None,
        fetched_at=timezone.now(),
        codigo_municipio_ibge=_ibge_code(text("codigo_municipio_ibge")),
    )


def _ibge_code(value: str | None) -> str | None:
    """IBGE municipality codes are 7 digits; anything else is dropped rather than sent to Omie."""
    digits = "".join(c for c in (value or "") if c.isdigit())
    return digits if len(digits) == 7 else None


def _compact_cnpj(raw: str) -> str:
    try:
        number, kind = document_validate(raw)
    except InvalidDocument as exc:
        raise InvalidCnpj(exc.message) from exc
    if kind != "PJ":
        raise InvalidCnpj("Documento não é um CNPJ.")
    return number


def _take_rate_slot() -> None:
    try:
        decision = get_brasilapi_limiter().acquire()
    except redis.RedisError as exc:
        # Without the shared limit we could exceed it; wait for Redis instead.
        raise BrasilApiTransientError("Limite de taxa da BrasilAPI indisponível (Redis).", retry_after=5.0) from exc
    if not decision.allowed:
        raise BrasilApiNotNow("Limite de consultas à BrasilAPI atingido; tente em instantes.", retry_after=decision.retry_after)


def _pause_rate(seconds: float) -> None:
    try:
        get_brasilapi_limiter().pause(seconds)
    except redis.RedisError:
        logger.warning("brasilapi: could not record the 429 pause in Redis", exc_info=True)


def _record_not_found(number: str) -> NoReturn:
    """Counts a 404 in Postgres; raises CnpjNotFoundYet, or CnpjNotFound once the retries are spent.

    The count restarts after the final verdict, so an ops "retry" later gets a fresh set of tries
    (the company may have been registered meanwhile: Receita data lags by weeks).
    """
    retries = settings.BRASILAPI_NOT_FOUND_RETRIES
    with transaction.atomic():
        record, _ = CompanyRecord.objects.select_for_update().get_or_create(cnpj=number)
        record.not_found_count += 1
        record.last_not_found_at = record.updated_at = timezone.now()
        count = record.not_found_count
        final = count > retries
        if final:
            record.not_found_count = 0
        record.save(update_fields=["not_found_count", "last_not_found_at", "updated_at"])
    if final:
        raise CnpjNotFound(NOT_FOUND_MESSAGE, status=404)
    wait = backoff_seconds(count, base=settings.BRASILAPI_NOT_FOUND_RETRY_SECONDS, cap=math.inf)
    raise CnpjNotFoundYet(
        f"CNPJ não encontrado pela BrasilAPI (tentativa {count} de {retries + 1}); nova consulta em {int(wait)} s.",
        status=404,
        retry_after=wait,
    )
