"""State of the fake Pagar.me, in the shared cache (Redis) so every process sees it: the charges the API
knows, outages, and how many times the JWKS and the API were read."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

_PREFIX = "fake_pagarme:"
CONTROL_FIELDS = ("api_status", "jwks_status", "latency_ms")


def control_get() -> dict[str, Any]:
    return {"api_status": None, "jwks_status": None, "latency_ms": 0, **(cache.get(_PREFIX + "control") or {})}


def control_set(**values: Any) -> dict[str, Any]:
    """``api_status`` / ``jwks_status``: an HTTP status (e.g. 503) every call answers, None for normal."""
    unknown = set(values) - set(CONTROL_FIELDS)
    if unknown:
        raise ValueError(f"unknown control fields: {sorted(unknown)}")
    control = {**control_get(), **values}
    cache.set(_PREFIX + "control", control, timeout=None)
    return control


def control_reset() -> None:
    cache.delete_many([_PREFIX + "control", _PREFIX + "count:jwks", _PREFIX + "count:api"])


def count(name: str) -> int:
    return int(cache.get(_PREFIX + "count:" + name) or 0)


def count_up(name: str) -> None:
    key = _PREFIX + "count:" + name
    cache.add(key, 0, timeout=None)
    cache.incr(key)


def event_register(event: dict[str, Any], *, api_status: str | None = None) -> None:
    """Makes the API know the charge and order of a webhook event (as Pagar.me would), optionally with
    another status than the event's (``api_status``, e.g. "pending")."""
    data = event.get("data") or {}
    if str(event.get("type", "")).startswith("order."):
        order = {k: v for k, v in data.items() if k != "charges"}
        charges = [dict(c) for c in data.get("charges") or []]
    else:
        order = dict(data.get("order") or {})
        charges = [{k: v for k, v in data.items() if k != "order"}]
    if api_status:
        for charge in charges:
            charge["status"] = api_status
        order["status"] = api_status if api_status in ORDER_STATUSES else order.get("status")
    for charge in charges:
        charge_put({**charge, "order": {k: order.get(k) for k in ("id", "code", "status")}})
    if order.get("id"):
        cache.set(_PREFIX + "order:" + str(order["id"]), {**order, "charges": [c["id"] for c in charges]}, timeout=None)


# Pagar.me v5's charge statuses: the fake refuses any other (there is no "refunded"), so a test or the
# demo cannot agree with the code on a status Pagar.me never sends.
CHARGE_STATUSES = ("paid", "pending", "canceled", "processing", "failed", "chargedback", "underpaid", "overpaid")
ORDER_STATUSES = ("pending", "paid", "canceled", "failed")


def charge_put(charge: dict[str, Any]) -> None:
    if charge.get("status") not in CHARGE_STATUSES:
        raise ValueError(f"Pagar.me v5 has no charge status {charge.get('status')!r}; use one of {CHARGE_STATUSES}")
    for name in ("amount", "paid_amount", "canceled_amount"):
        if name in charge and (isinstance(charge[name], bool) or not isinstance(charge[name], int) or charge[name] < 0):
            raise ValueError(f"{name} is integer cents, got {charge[name]!r}")
    cache.set(_PREFIX + "charge:" + str(charge["id"]), charge, timeout=None)


def charge_get(charge_id: str) -> dict[str, Any] | None:
    return cache.get(_PREFIX + "charge:" + charge_id)


def charge_status_set(charge_id: str, status: str) -> None:
    charge_update(charge_id, status=status)


def charge_update(charge_id: str, **fields: Any) -> dict[str, Any]:
    """Changes what the API answers for a charge (status, paid_amount, canceled_amount in cents, metadata…)."""
    charge = charge_get(charge_id)
    if charge is None:
        raise KeyError(charge_id)
    charge = {**charge, **fields}
    charge_put(charge)
    return charge


def order_get(order_id: str) -> dict[str, Any] | None:
    order = cache.get(_PREFIX + "order:" + order_id)
    if order is None:
        return None
    charges = [c for c in (charge_get(cid) for cid in order.get("charges", [])) if c]
    return {**order, "charges": [{k: v for k, v in c.items() if k != "order"} for c in charges]}
