"""Pagar.me v5 webhook events → ``PagarmeEvent``.

The envelope is ``{"id": "hook_…", "type": "charge.paid", "created_at", "data": {…}}`` where ``data``
is the charge for ``charge.*`` and the order (with ``charges[]``) for ``order.*``. Events arrive late,
twice and out of order, so ``occurred_at`` is the resource's own time (the charge's ``updated_at``,
else ``paid_at``), not the delivery's; the event's ``created_at`` is only the fallback.
Unknown event types still parse (their resource fields may be None): they are kept, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime


class InvalidEvent(ValueError):
    """The payload is not a Pagar.me event (400 material, never retried)."""


@dataclass(frozen=True)
class PagarmeEvent:
    event_id: str
    type: str
    charge_id: str | None
    status: str | None
    occurred_at: datetime
    bubble_order_id: str | None
    amount: Decimal | None
    pagarme_order_id: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def event_parse(payload: dict[str, Any]) -> PagarmeEvent:
    if not isinstance(payload, dict):
        raise InvalidEvent("O evento não é um objeto JSON.")
    event_id = payload.get("id")
    event_type = payload.get("type")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("Evento sem id.")
    if not isinstance(event_type, str) or not event_type.strip():
        raise InvalidEvent("Evento sem type.")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidEvent("Evento sem data (objeto).")
    created_at = _time(payload.get("created_at"), "created_at")

    if event_type.startswith("order."):
        order: dict[str, Any] | None = data
        charge = _main_charge(data)
    else:
        charge = data if event_type.startswith("charge.") else None
        order = _dict(charge.get("order"), "data.order") if charge else None

    charge_id = _str(charge.get("id")) if charge else None
    status = _str(charge.get("status")) if charge else None
    if status is None and order is not None:
        status = _str(order.get("status"))
    occurred_at = None
    if charge:
        occurred_at = _time(charge.get("updated_at"), "updated_at") or _time(charge.get("paid_at"), "paid_at")
    if occurred_at is None and order is not None and event_type.startswith("order."):
        occurred_at = _time(order.get("updated_at"), "updated_at")
    occurred_at = occurred_at or created_at
    if occurred_at is None:
        raise InvalidEvent("Evento sem data/hora (created_at).")
    amount_source = charge if charge else order
    return PagarmeEvent(
        event_id=event_id.strip(),
        type=event_type.strip(),
        charge_id=charge_id,
        status=status,
        occurred_at=occurred_at,
        bubble_order_id=_bubble_order_id(charge, order),
        amount=_amount(amount_source.get("amount")) if amount_source else None,
        pagarme_order_id=_str(order.get("id")) if order else None,
        created_at=created_at,
        raw=payload,
    )


def _main_charge(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's charge that decides it: the last paid one, else the last one."""
    charges = order.get("charges")
    if charges is None:
        return None
    if not isinstance(charges, list) or not all(isinstance(c, dict) for c in charges):
        raise InvalidEvent("data.charges não é uma lista de objetos.")
    paid = [c for c in charges if c.get("status") == "paid"]
    return (paid or charges or [None])[-1]


def _bubble_order_id(charge: dict[str, Any] | None, order: dict[str, Any] | None) -> str | None:
    for source in (charge, order):
        metadata = source.get("metadata") if source else None
        if isinstance(metadata, dict) and _str(metadata.get("bubble_order_id")):
            return _str(metadata["bubble_order_id"])
    return _str(order.get("code")) if order else None


def _dict(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidEvent(f"{name} não é um objeto.")
    return value


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"{name} não é uma data/hora.")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError as exc:
        raise InvalidEvent(f"{name} não é uma data/hora válida.") from exc
    if parsed is None:
        raise InvalidEvent(f"{name} não é uma data/hora válida.")
    # Pagar.me sends UTC; a value without offset is read as UTC.
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _amount(value: Any) -> Decimal | None:
    """Pagar.me amounts are integer cents."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidEvent("amount não é um valor em centavos.")
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidEvent("amount não é um valor em centavos.")
    return Decimal(int(text)).scaleb(-2)
