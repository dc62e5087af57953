from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

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


def omie_call_counts(*, since: datetime) -> dict[str, int]:
    """How many calls ended in each class since ``since`` (dashboard: failures in the last 24 h)."""
    rows = OmieCall.objects.filter(created_at__gte=since).values("outcome").annotate(n=Count("id"))
    return {row["outcome"]: row["n"] for row in rows}


def omie_dashboard_panel() -> dict[str, Any]:
    """The admin dashboard card (docs/backoffice.md): paused/banned methods, budget and leases, per method.

    Shaped for ``backoffice.dashboard.Dashboard.extra_panels``."""

    methods = throttle_state()["methods"]
    paused = [m for m in methods if m["paused_until"]]
    rows = [["Método", "Situação", "Erros / orçamento", "Em andamento"]]
    for m in methods:
        if m["paused_until"]:
            until = timezone.localtime(m["paused_until"])
            situation = f"pausado até {until:%H:%M:%S} ({m['pause_label']})"
        else:
            situation = "livre"
        rows.append([m["call"], situation, f"{m['errors_in_window']} / {m['error_budget']}", f"{m['leases_held']} / {m['concurrency']}"])
    return {
        "title": "Omie: consumo da API",
        "alert": bool(paused),
        "big": len(paused),
        "text": "métodos pausados ou bloqueados agora" if paused else "nenhum método pausado",
        "rows": rows,
        "link": "omie/omiecall/?outcome__in=banned,rate_limited,concurrent,redundant,transient",
        "link_text": "Chamadas recentes com falha",
    }
