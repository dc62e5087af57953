from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from integrations.omie.models import OmieCall
from integrations.omie.throttle import get_throttle


def throttle_state() -> dict[str, Any]:
    """Per-method throttle state for the admin dashboard: pause/ban (until, reason), errors in the
    budget window, leases held, tokens left; and the limits in force."""
    throttle = get_throttle()
    lim = throttle.limits
    return {
        "methods": [vars(state) for state in throttle.state()],
        "limits": {
            "rate_per_method_per_minute": lim.rate_per_method_per_minute,
            "rate_per_key_per_minute": lim.rate_per_key_per_minute,
            "error_budget": lim.error_budget,
            "error_window_seconds": lim.error_window_seconds,
            "write_concurrency": lim.write_concurrency,
            "read_concurrency": lim.read_concurrency,
        },
    }


def omie_calls_for_order(*, order_id: int) -> QuerySet[OmieCall]:
    return OmieCall.objects.filter(order_id=order_id).order_by("created_at", "id")


def omie_call_counts(*, since: datetime) -> dict[str, int]:
    """How many calls ended in each class since ``since`` (dashboard: failures in the last 24 h)."""
    rows = OmieCall.objects.filter(created_at__gte=since).values("outcome").annotate(n=Count("id"))
    return {row["outcome"]: row["n"] for row in rows}
