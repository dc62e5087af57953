"""The admin page "Verificar integrações": the same service as ``manage.py check_integrations``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from billing.permissions import FINANCE_GROUP
from integrations.checks.service import integrations_check


def may_check_integrations(user: Any) -> bool:
    """Superusers and the Financeiro group (the page may spend an Omie call and test-write to Bubble)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists())


class CheckForm(forms.Form):
    bubble_order = forms.CharField(
        label="Pedido de exemplo no Bubble (id)", required=False, max_length=64,
        help_text="O _id de um pedido real: confere as chaves dos campos do pedido e do cliente dele.",
    )
    bubble_patch = forms.BooleanField(
        label="Testar escrita no Bubble", required=False,
        help_text="Regrava o mesmo valor num campo do pedido de exemplo (prova a permissão \"Modify via API\").",
    )
    sentry_test_event = forms.BooleanField(label="Enviar um evento de teste ao Sentry", required=False)


def integrations_check_view(request: HttpRequest) -> HttpResponse:
    if not may_check_integrations(request.user):
        raise PermissionDenied
    form = CheckForm(request.POST or None)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        report = integrations_check(
            bubble_order_id=data["bubble_order"], bubble_patch=data["bubble_patch"] and bool(data["bubble_order"]),
            sentry_test_event=data["sentry_test_event"],
        )
    context = {
        **admin.site.each_context(request),
        "title": "Verificar integrações",
        "form": form,
        "report": report,
    }
    return TemplateResponse(request, "admin/integrations/check.html", context, status=200)
