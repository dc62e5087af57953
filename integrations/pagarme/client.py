"""Pagar.me core v5 API: the reads that confirm a webhook before money state changes.

``GET {PAGARME_API_BASE_URL}/charges/{id}`` and ``/orders/{id}``, Basic auth with the secret key as
the user and an empty password. Classification: 200 JSON object → the resource; 404 →
``PagarmeNotFound``; 401/403 → ``PagarmeAuthError``; 408, 429, 5xx, timeouts, non-JSON → transient.
Retries (backoff with jitter) belong to the caller: the webhook event task waits and tries again.

``ping()`` (one page of one customer) checks the key cheaply; ``jwks_fetch(url)`` reads the JWKS the
webhook signatures are checked with. Neither the key nor a body is ever logged.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from integrations.http import build_session, json_or_none, send
from integrations.pagarme.errors import (
    JwksUnavailable,
    PagarmeAuthError,
    PagarmeError,
    PagarmeInvalidId,
    PagarmeNotFound,
    PagarmeTransientError,
)

logger = logging.getLogger(__name__)
_session: requests.Session | None = None


@dataclass(frozen=True)
class ChargeStatus:
    """What the API says of one charge (or of an order, through its deciding charge)."""

    id: str
    status: str
    amount: Decimal | None = None
    paid_amount: Decimal | None = None
    updated_at: datetime | None = None
    order_id: str | None = None
    # What was refunded (cents → R$): a full refund reads status "canceled" with this ≥ paid_amount; a
    # partial one leaves the charge "paid" with this > 0. Pagar.me has no "refunded" charge status.
    canceled_amount: Decimal | None = None
    # Whose charge this is: metadata.bubble_order_id and the Pagar.me order's code (our Bubble id when we
    # created it). A webhook naming another order is not confirmed by this charge.
    bubble_order_id: str | None = None
    order_code: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def owners(self) -> frozenset[str]:
        """The Bubble order ids this charge says it belongs to (metadata, Pagar.me order code)."""
        return frozenset(value for value in (self.bubble_order_id, self.order_code) if value)


@dataclass(frozen=True)
class OrderStatus:
    id: str
    status: str
    charges: tuple[ChargeStatus, ...] = ()
    updated_at: datetime | None = None
    code: str | None = None
    bubble_order_id: str | None = None

    @property
    def main_charge(self) -> ChargeStatus | None:
        """The charge that decides the order: the last one with money in (paid, over/underpaid), else the last one."""
        paid = [c for c in self.charges if c.status in CHARGE_STATUSES_WITH_PAYMENT]
        return (paid or list(self.charges) or [None])[-1]


# Pagar.me v5's charge statuses, all of them (there is no "refunded": see ChargeStatus.canceled_amount).
CHARGE_STATUSES = ("paid", "pending", "canceled", "processing", "failed", "chargedback", "underpaid", "overpaid")
CHARGE_STATUSES_WITH_PAYMENT = ("paid", "underpaid", "overpaid")

# Pagar.me ids as they go into a URL path: the prefix, then letters and digits only. Anything else
# (``ch_../../x``, ``%2F``, spaces) is refused before a request is built.
_ID = {"charge": re.compile(r"ch_[A-Za-z0-9]{1,64}"), "order": re.compile(r"or_[A-Za-z0-9]{1,64}")}


def pagarme_id_is_valid(kind: str, value: Any) -> bool:
    """True for a well-formed ``ch_…`` (kind "charge") or ``or_…`` (kind "order") id."""
    return isinstance(value, str) and bool(_ID[kind].fullmatch(value))


class PagarmeClient:
    def __init__(self, *, base_url: str, secret_key: str, connect_timeout: float = 5.0, read_timeout: float = 15.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.auth = (secret_key or "", "")
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or build_session("pagarme")

    def get_charge(self, charge_id: str) -> ChargeStatus:
        if not pagarme_id_is_valid("charge", charge_id):
            raise PagarmeInvalidId("Id de cobrança do Pagar.me inválido (esperado ch_ seguido de letras e números).")
        body = self._get(f"/charges/{quote(charge_id, safe='')}", "cobrança")
        return charge_parse(body)

    def get_order(self, order_id: str) -> OrderStatus:
        if not pagarme_id_is_valid("order", order_id):
            raise PagarmeInvalidId("Id de pedido do Pagar.me inválido (esperado or_ seguido de letras e números).")
        body = self._get(f"/orders/{quote(order_id, safe='')}", "pedido")
        return order_parse(body)

    def ping(self) -> None:
        """One cheap authenticated read (a page of one customer): raises PagarmeAuthError on a bad key."""
        self._get("/customers?page=1&size=1", "clientes")

    def _get(self, path: str, what: str) -> dict[str, Any]:
        started = time.monotonic()
        response = send(self.session, "GET", self.base_url + path, timeout=self.timeout, error_class=PagarmeTransientError,
                        auth=self.auth, allow_redirects=False)
        status = response.status_code
        logger.info("pagarme GET %s -> %s in %d ms", path.split("/")[1].split("?")[0], status, int((time.monotonic() - started) * 1000))
        if status == 200:
            body = json_or_none(response)
            if not isinstance(body, dict):
                raise PagarmeTransientError(f"Resposta inválida do Pagar.me ({what}: não é um objeto JSON).", status=status)
            return body
        if status == 404:
            raise PagarmeNotFound(f"O Pagar.me não conhece esta {what}." if what == "cobrança" else f"O Pagar.me não conhece este {what}.",
                                  status=status)
        if status in (401, 403):
            raise PagarmeAuthError(f"O Pagar.me recusou a chave (HTTP {status}): confira PAGARME_SECRET_KEY.", status=status)
        if status in (408, 429) or status >= 500:
            raise PagarmeTransientError(f"Pagar.me indisponível no momento (HTTP {status}).", status=status,
                                        retry_after=_retry_after(response))
        raise PagarmeError(f"O Pagar.me recusou a consulta (HTTP {status}).", status=status)


def jwks_fetch(url: str | None = None, *, session: requests.Session | None = None, timeout: tuple[float, float] | None = None
               ) -> dict[str, Any]:
    """The JWKS document at ``url`` (default PAGARME_JWKS_URL); ``JwksUnavailable`` when it cannot be read."""
    url = url or settings.PAGARME_JWKS_URL
    response = send(session or _shared_session(), "GET", url, error_class=JwksUnavailable, allow_redirects=False,
                    timeout=timeout or (settings.PAGARME_CONNECT_TIMEOUT, settings.PAGARME_READ_TIMEOUT))
    body = json_or_none(response) if response.status_code == 200 else None
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise JwksUnavailable(f"JWKS do Pagar.me ilegível (HTTP {response.status_code}).", status=response.status_code)
    return body


def get_pagarme_client() -> PagarmeClient:
    return PagarmeClient(base_url=settings.PAGARME_API_BASE_URL, secret_key=settings.PAGARME_SECRET_KEY,
                         connect_timeout=settings.PAGARME_CONNECT_TIMEOUT, read_timeout=settings.PAGARME_READ_TIMEOUT,
                         session=_shared_session())


def _shared_session() -> requests.Session:
    global _session
    if _session is None:
        _session = build_session("pagarme")
    return _session


def charge_parse(body: dict[str, Any], *, order: dict[str, Any] | None = None) -> ChargeStatus:
    """A v5 charge object (the API's answer, or a ``charge.*`` webhook's ``data``) → ChargeStatus.

    ``order`` is the Pagar.me order the charge sits in when the body does not carry it (an order's charges[]).
    """
    if not _text(body.get("id")) or not _text(body.get("status")):
        raise PagarmeTransientError("Resposta inválida do Pagar.me (cobrança sem id/status).")
    if order is None:
        order = body.get("order") if isinstance(body.get("order"), dict) else {}
    return ChargeStatus(id=_text(body["id"]), status=_text(body["status"]).lower(), amount=_cents(body.get("amount")),
                        paid_amount=_cents(body.get("paid_amount")), updated_at=_time(body.get("updated_at")) or _time(body.get("paid_at")),
                        order_id=_text(order.get("id")) or None, canceled_amount=_cents(body.get("canceled_amount")),
                        bubble_order_id=_metadata_order(body) or _metadata_order(order), order_code=_text(order.get("code")) or None,
                        raw=body)


def order_parse(body: dict[str, Any]) -> OrderStatus:
    """A v5 order object (with ``charges[]``) → OrderStatus; each charge knows the order's code."""
    if not _text(body.get("id")) or not _text(body.get("status")):
        raise PagarmeTransientError("Resposta inválida do Pagar.me (pedido sem id/status).")
    charges = body.get("charges") if isinstance(body.get("charges"), list) else []
    return OrderStatus(id=_text(body["id"]), status=_text(body["status"]).lower(),
                       charges=tuple(charge_parse(c, order=body) for c in charges
                                     if isinstance(c, dict) and c.get("id") and c.get("status")),
                       updated_at=_time(body.get("updated_at")), code=_text(body.get("code")) or None,
                       bubble_order_id=_metadata_order(body))


def _metadata_order(resource: dict[str, Any]) -> str | None:
    metadata = resource.get("metadata")
    return (_text(metadata.get("bubble_order_id")) or None) if isinstance(metadata, dict) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _cents(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        return None
    return Decimal(int(str(value).strip())).scaleb(-2)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
