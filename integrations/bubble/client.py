"""The Bubble Data API client (docs/contract.md#bubble-data, docs/integrations.md#evidence): GET one thing, PATCH one thing.

Every response is classified here and nowhere else:
- 404, or 400 with ``MISSING_DATA`` (older apps) → ``BubbleNotFound`` (permanent);
- 401/403, a redirect, a missing token or base URL → ``BubbleConfigError`` (permanent: a person must act);
- 429, 408, 5xx, timeouts, connection failures, non-JSON or truncated bodies → ``BubbleTransientError``;
- any other 4xx (a field key in the wrong style, a bad value) → ``BubbleError`` (permanent).
Logs carry the thing type, its Bubble id and the outcome; never field values or the token.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils import timezone

from integrations.bubble.errors import (
    BubbleConfigError,
    BubbleError,
    BubbleInvalidData,
    BubbleNotFound,
    BubbleTransientError,
)
from integrations.bubble.fields import CENT, dumps_exact, field_key, type_name, wire_value
from integrations.bubble.types import THINGS, BubbleCustomer, BubbleOrder, Thing
from integrations.http import build_session, send

logger = logging.getLogger(__name__)

_LABEL = {"order": "Pedido", "customer": "Cliente"}
_TRUE = {"true", "sim", "yes", "s", "y", "1"}
_session: requests.Session | None = None


def get_bubble_client() -> BubbleClient:
    """A client configured from settings now (tests change settings; the HTTP session is shared)."""
    global _session
    if _session is None:
        _session = build_session("bubble")
    return BubbleClient(
        base_url=settings.BUBBLE_BASE_URL,
        token=settings.BUBBLE_API_TOKEN,
        connect_timeout=settings.BUBBLE_CONNECT_TIMEOUT,
        read_timeout=settings.BUBBLE_READ_TIMEOUT,
        session=_session,
    )


class BubbleClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.token = token or ""
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or build_session("bubble")

    # Public API ------------------------------------------------------------------------------
    def get_order(self, bubble_id: str) -> BubbleOrder:
        raw = self.get_thing("order", bubble_id)
        customer_id = _text(raw.get(field_key("order", "cliente")))
        if not customer_id:
            raise BubbleInvalidData(f"Pedido {bubble_id} sem cliente no Bubble (campo {field_key('order', 'cliente')}).")
        return BubbleOrder(
            id=bubble_id,
            customer_id=customer_id,
            amount=_amount(raw.get(field_key("order", "valor_total")), bubble_id=bubble_id),
            description=_text(raw.get(field_key("order", "descricao_servico"))),
            lc116_code=_text(raw.get(field_key("order", "codigo_servico_lc116"))),
            payment_method=_text(raw.get(field_key("order", "forma_pagamento"))),
            payment_status=_text(raw.get(field_key("order", "status_pagamento"))),
            raw=raw,
        )

    def get_customer(self, bubble_id: str) -> BubbleCustomer:
        raw = self.get_thing("customer", bubble_id)

        def text(canonical: str) -> str | None:
            return _text(raw.get(field_key("customer", canonical)))

        return BubbleCustomer(
            id=bubble_id,
            name=text("nome"),
            email=text("email"),
            document=text("documento"),
            phone=text("telefone"),
            cep=_cep(raw.get(field_key("customer", "cep"))),
            street=text("logradouro"),
            number=text("numero"),
            district=text("bairro"),
            city=text("cidade"),
            state=(text("uf") or "").upper() or None,
            requires_approval=_flag(raw.get(field_key("customer", "requer_aprovacao"))),
            raw=raw,
        )

    def get_thing(self, thing: Thing, bubble_id: str) -> dict[str, Any]:
        """The thing's fields as Bubble returns them (app keys), without the ``response`` wrapper."""
        response = self._request("GET", thing, bubble_id)
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("response"), dict):
            raise BubbleTransientError(
                f"Resposta inválida do Bubble ao ler {_LABEL[thing].lower()} {bubble_id} (HTTP {response.status_code}).",
                status=response.status_code,
            )
        return body["response"]

    def patch(self, thing: Thing, bubble_id: str, fields: dict[str, Any]) -> None:
        """PATCHes canonical fields (mapped through BUBBLE_FIELD_MAP); only the given keys change."""
        if not fields:
            return
        body = {field_key(thing, key): wire_value(value) for key, value in fields.items()}
        self._request("PATCH", thing, bubble_id, data=dumps_exact(body).encode(), headers={"Content-Type": "application/json"})

    # Transport and classification --------------------------------------------------------------
    def _request(self, method: str, thing: Thing, bubble_id: str, **kwargs: Any) -> requests.Response:
        if thing not in THINGS:
            raise ValueError(f"thing inválido: {thing!r}")
        if not bubble_id or not isinstance(bubble_id, str):
            raise BubbleInvalidData("Id do Bubble vazio.")
        if not self.base_url or not self.token:
            raise BubbleConfigError("Integração com o Bubble não configurada (BUBBLE_BASE_URL / BUBBLE_API_TOKEN).")
        url = f"{self.base_url}/obj/{quote(type_name(thing), safe='')}/{quote(bubble_id, safe='')}"
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        started = time.monotonic()
        response = send(
            self.session, method, url, timeout=self.timeout, error_class=BubbleTransientError,
            headers=headers, allow_redirects=False, **kwargs,
        )
        elapsed_ms = int((time.monotonic() - started) * 1000)
        logger.info("bubble %s %s %s -> %s in %d ms", method, thing, bubble_id, response.status_code, elapsed_ms)
        if 200 <= response.status_code < 300:
            return response
        raise _classify(response, thing=thing, bubble_id=bubble_id)


def _classify(response: requests.Response, *, thing: Thing, bubble_id: str) -> BubbleError:
    status = response.status_code
    envelope_status, message = _envelope(response)
    label = f"{_LABEL[thing]} {bubble_id}"
    detail = f": {message}" if message else ""
    details = {"bubble_status": envelope_status} if envelope_status else {}
    if status == 404 or (status == 400 and envelope_status == "MISSING_DATA"):
        hint = "" if envelope_status == "MISSING_DATA" else " (ou o tipo não está exposto na Data API)"
        return BubbleNotFound(f"{label} não encontrado no Bubble{hint}.", status=status, details=details)
    if status in (401, 403):
        return BubbleConfigError(
            f"Bubble recusou a credencial (HTTP {status}){detail}. Verifique BUBBLE_API_TOKEN e as permissões da Data API.",
            status=status, details=details,
        )
    if 300 <= status < 400:
        return BubbleConfigError(f"Bubble redirecionou a chamada (HTTP {status}); verifique BUBBLE_BASE_URL.", status=status)
    if status in (408, 429) or status >= 500:
        return BubbleTransientError(
            f"Bubble indisponível no momento (HTTP {status}){detail}.",
            status=status, retry_after=_retry_after(response), details=details,
        )
    return BubbleError(f"Bubble recusou a operação em {label} (HTTP {status}){detail}.", status=status, details=details)


def _json(response: requests.Response) -> Any:
    # Floats are parsed as Decimal: an amount never passes through binary floating point.
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None


def _envelope(response: requests.Response) -> tuple[str | None, str | None]:
    """``{"statusCode", "body": {"status", "message"}}`` → (status, message); tolerant of other shapes."""
    body = _json(response)
    if not isinstance(body, dict):
        return None, None
    inner = body.get("body") if isinstance(body.get("body"), dict) else body
    status = inner.get("status")
    message = inner.get("message")
    return (
        status if isinstance(status, str) else None,
        message[:300] if isinstance(message, str) and message else None,
    )


def _retry_after(response: requests.Response) -> float | None:
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _cep(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    digits = "".join(c for c in text if c.isdigit())
    # A CEP kept in a Bubble *number* field loses its leading zero (01310-100 → 1310100).
    return digits.zfill(8) if 0 < len(digits) <= 8 else text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def _amount(value: Any, *, bubble_id: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise BubbleInvalidData(f"Pedido {bubble_id} sem valor no Bubble (campo {field_key('order', 'valor_total')}).")
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise BubbleInvalidData(f"Pedido {bubble_id} com valor inválido no Bubble.") from exc
    if not amount.is_finite() or amount < 0:
        raise BubbleInvalidData(f"Pedido {bubble_id} com valor inválido no Bubble.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
