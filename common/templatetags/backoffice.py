from django import template
from django.http import HttpRequest

register = template.Library()


@register.inclusion_tag("admin/includes/dashboard.html", takes_context=True)
def backoffice_dashboard(context: dict) -> dict:
    request: HttpRequest = context["request"]
    if not request.user.has_perm("orders.view_order"):
        return {"dashboard": None}
    from common.dashboard import dashboard_data

    return {"dashboard": dashboard_data(), "request": request}


@register.filter
def brl(value: object) -> str:
    """1234.5 → "R$ 1.234,50"."""
    try:
        text = f"{float(value):,.2f}"  # display only; sums are Decimal in the selector
    except (TypeError, ValueError):
        return "—"
    return "R$ " + text.replace(",", "X").replace(".", ",").replace("X", ".")
