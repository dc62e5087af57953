"""Go-live pieces of the admin pages: the dry-run banner, an order's unsent Omie payloads, and the
link to the integration check. Kept here so the dashboard and the order page only include them."""

from __future__ import annotations

from typing import Any

from django import template

from backoffice.integrations_check import may_check_integrations
from integrations.omie.dryrun import DRY_RUN_LABEL, dry_run_on, dry_run_waiting_order_ids
from integrations.omie.models import OmieDryRunCall

register = template.Library()


@register.inclusion_tag("admin/integrations/dry_run_banner.html", takes_context=True)
def dry_run_banner(context: dict) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    on = dry_run_on()
    return {
        "dry_run": on,
        "waiting": len(dry_run_waiting_order_ids()) if on else 0,
        "may_check": bool(user and may_check_integrations(user)),
    }


@register.inclusion_tag("admin/integrations/dry_run_payloads.html")
def dry_run_payloads(order_id: int | None) -> dict[str, Any]:
    rows = list(OmieDryRunCall.objects.filter(order_id=order_id).order_by("created_at", "id")) if order_id else []
    return {
        "label": DRY_RUN_LABEL,
        "calls": [
            {"call": r.call, "key": r.integration_key, "payload": r.payload, "problems": r.problems,
             "built_count": r.built_count, "updated_at": r.updated_at, "replayed_at": r.replayed_at}
            for r in rows
        ],
    }
