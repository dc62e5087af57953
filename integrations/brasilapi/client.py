"""The BrasilAPI CNPJ endpoint (docs/integrations.md#evidence): ``GET {BRASILAPI_BASE_URL}/cnpj/v1/{cnpj}``.

Classification: 200 JSON object → the payload; 404 → None (the caller applies the false-404 rule);
400 → ``InvalidCnpj``; 429, 408, 5xx, timeouts, non-JSON or non-object bodies → transient.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from integrations.brasilapi.errors import BrasilApiError, BrasilApiTransientError, InvalidCnpj
from integrations.http import build_session, json_or_none, send

logger = logging.getLogger(__name__)
_session: requests.Session | None = None


class BrasilApiClient:
    def __init__(self, *, base_url: str, connect_timeout: float = 5.0, read_timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or build_session("brasilapi")

    def get_company(self, cnpj: str) -> dict[str, Any] | None:
        """The raw company payload, or None on 404. ``cnpj`` must be compact (14 characters)."""
        url = f"{self.base_url}/cnpj/v1/{quote(cnpj, safe='')}"
        started = time.monotonic()
        response = send(
            self.session, "GET", url, timeout=self.timeout, error_class=BrasilApiTransientError, allow_redirects=False
        )
        # The CNPJ stays out of the log line (common/logging redacts it anyway).
        logger.info("brasilapi cnpj -> %s in %d ms", response.status_code, int((time.monotonic() - started) * 1000))
        status = response.status_code
        if status == 200:
            body = json_or_none(response)
            if not isinstance(body, dict) or not body.get("cnpj"):
                raise BrasilApiTransientError("Resposta inválida da BrasilAPI (não é um cadastro de CNPJ).", status=status)
            return body
        if status == 404:
            return None
        if status == 400:
            # BrasilAPI's message echoes the CNPJ: it is not kept (no documents in errors or logs).
            raise InvalidCnpj("CNPJ inválido segundo a BrasilAPI.", status=status)
        if status in (408, 429) or status >= 500:
            raise BrasilApiTransientError(
                f"BrasilAPI indisponível no momento (HTTP {status}).", status=status, retry_after=_retry_after(response)
            )
        raise BrasilApiError(f"BrasilAPI recusou a consulta (HTTP {status}).", status=status)


def get_brasilapi_client() -> BrasilApiClient:
    global _session
    if _session is None:
        _session = build_session("brasilapi")
    return BrasilApiClient(
        base_url=settings.BRASILAPI_BASE_URL,
        connect_timeout=settings.BRASILAPI_CONNECT_TIMEOUT,
        read_timeout=settings.BRASILAPI_READ_TIMEOUT,
        session=_session,
    )


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
