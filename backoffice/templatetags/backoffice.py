import json

from django import template
from django.conf import settings
from django.http import HttpRequest

from backoffice.badges import badge
from backoffice.dashboard import dashboard_data
from common.money import brl as money_brl

register = template.Library()


@register.inclusion_tag("admin/includes/dashboard.html", takes_context=True)
def backoffice_dashboard(context: dict) -> dict:
    request: HttpRequest = context["request"]
    if not request.user.has_perm("orders.view_order"):
        return {"dashboard": None}
    return {"dashboard": dashboard_data(), "request": request}


# The one money format (common.money.brl) as a template filter: {{ order.amount|brl }}.
brl = register.filter("brl", money_brl)


@register.filter
def json_pretty(value: object) -> str:
    """Raw data folded under a line (the request's body, an event): JSON, not Python's repr ("null", not "None")."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@register.simple_tag
def status_badge(value: str, label: str, colour: str | None = None) -> str:
    """``{% status_badge order.billing_status order.get_billing_status_display %}``: the list's coloured label."""
    return badge(value, label, colour=colour)


# The index's list of screens, most used first; the sandbox's fake systems only when it is on.
APP_ORDER = ["orders", "billing", "omie", "bubble", "pagarme", "brasilapi", "integrations", "django_celery_results",
             "django_celery_beat", "auth", "token_blacklist"]
SANDBOX_APPS = {"fake_omie", "fake_bubble", "fake_brasilapi"}


@register.filter
def ops_app_list(app_list: list[dict]) -> list[dict]:
    apps = [app for app in app_list if settings.SANDBOX or app["app_label"] not in SANDBOX_APPS]
    rank = {label: i for i, label in enumerate(APP_ORDER)}
    return sorted(apps, key=lambda app: rank.get(app["app_label"], len(APP_ORDER)))
