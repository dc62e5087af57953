"""The admin page "Verificar integrações": the same checks as ``manage.py check_integrations``, run by a
Celery worker (integrations/checks/runs.py) so the page never waits on an external system."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from billing.permissions import FINANCE_GROUP
from integrations.checks.report import VERDICT_LABELS
from integrations.checks.runs import integrations_check_run_fail, integrations_check_run_refresh, integrations_check_run_request
from integrations.models import IntegrationCheckRun
from integrations.tasks.checks import integrations_check_run as integrations_check_run_task


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
    """POST asks a worker for a check and comes back at once (to ``?verificacao=<id>``); GET shows a
    run: its progress while it runs (the page refreshes itself every 2 s), then its report, with who
    asked and when. No external system is ever called inside the request."""
    if not may_check_integrations(request.user):
        raise PermissionDenied
    form = CheckForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = integrations_check_run_request(
            user=request.user, bubble_order_id=data["bubble_order"], bubble_patch=data["bubble_patch"],
            sentry_test_event=data["sentry_test_event"],
        )
        try:
            integrations_check_run_task.delay(run.pk)
        except Exception as exc:  # noqa: BLE001 - the broker is down: say so on the page, never a 500
            integrations_check_run_fail(
                run_id=run.pk, reason=f"Não foi possível pôr a verificação na fila do Celery ({type(exc).__name__}): "
                                      "o Redis (broker) está acessível? Confira REDIS_URL / CELERY_BROKER_URL.")
        return HttpResponseRedirect(f"{request.path}?verificacao={run.pk}")
    run = _shown_run(request)
    report = None
    if run is not None and run.status == IntegrationCheckRun.Status.DONE and run.report:
        report = _report_for_page(run.report)
    running = run is not None and run.status in (IntegrationCheckRun.Status.QUEUED, IntegrationCheckRun.Status.RUNNING)
    context = {
        **admin.site.each_context(request),
        "title": "Verificar integrações",
        "form": form,
        "run": run,
        "running": running,
        "report": report,
        "system_timeout": int(settings.INTEGRATIONS_CHECK_SYSTEM_TIMEOUT_SECONDS),
        "history": IntegrationCheckRun.objects.exclude(pk=getattr(run, "pk", None))[:5],
    }
    return TemplateResponse(request, "admin/integrations/check.html", context, status=200)


def _shown_run(request: HttpRequest) -> IntegrationCheckRun | None:
    wanted = request.GET.get("verificacao", "")
    runs = IntegrationCheckRun.objects.select_related("requested_by")
    run = runs.filter(pk=int(wanted)).first() if wanted.isdigit() else runs.first()
    return integrations_check_run_refresh(run=run) if run is not None else None


def _report_for_page(data: dict[str, Any]) -> dict[str, Any]:
    """The stored report (``Report.as_dict``) with the labels the template shows."""
    systems = []
    for system in data.get("systems", []):
        items = [{**item, "verdict_label": VERDICT_LABELS.get(item["verdict"], item["verdict"])} for item in system["items"]]
        systems.append({**system, "items": items, "verdict_label": VERDICT_LABELS.get(system["verdict"], system["verdict"])})
    return {"verdict": data.get("verdict", ""), "systems": systems}
