"""The fake BrasilAPI: ``/sandbox/brasilapi/api/cnpj/v1/<cnpj>`` (docs/integrations.md#evidence). Sandbox only."""

from __future__ import annotations

import json
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from stdnum.br import cnpj as stdnum_cnpj

from sandbox.fake_brasilapi import services
from sandbox.fake_brasilapi.models import FakeCompany, FakeLookup


def _error(status: int, message: str, kind: str, name: str) -> JsonResponse:
    body = {"message": message, "type": kind, "name": name}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@require_http_methods(["GET"])
def cnpj_lookup(request: HttpRequest, cnpj: str) -> HttpResponse:
    control = services.control_get()
    if control.latency_ms:
        time.sleep(control.latency_ms / 1000)
    response = _answer(cnpj)
    FakeLookup.objects.create(cnpj=stdnum_cnpj.compact(cnpj)[:32], status_code=response.status_code)
    return response


def _answer(raw: str) -> HttpResponse:
    failure = services.failure_take()
    if failure == 429:
        # Vercel's mitigation answers plain text (docs/integrations.md#evidence, issue #835).
        response = HttpResponse("Too Many Requests", status=429, content_type="text/plain")
        response["x-vercel-mitigated"] = "deny"
        return response
    if failure is not None:
        return _error(failure, "Erro interno no serviço de CNPJ.", "internal_error", "InternalError")
    number = stdnum_cnpj.compact(raw)
    if not stdnum_cnpj.is_valid(number):
        return _error(400, f"CNPJ {raw} inválido.", "bad_request", "BadRequestError")
    company = FakeCompany.objects.filter(cnpj=number).first()
    if company is None or services.false_404_take(cnpj=number):
        return _error(404, f"CNPJ {stdnum_cnpj.format(number)} não encontrado.", "not_found", "NotFoundError")
    return JsonResponse(services.company_payload(company), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    """POST ``{"fail_status": 429, "fail_calls_left": 2, "latency_ms": 0}`` (any subset); GET reads it."""
    if request.method == "POST":
        try:
            values = json.loads(request.body or b"{}")
            if not isinstance(values, dict):
                raise ValueError("body must be a JSON object")
            services.control_set(**values)
        except (ValueError, TypeError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    current = services.control_get()
    return JsonResponse({field: getattr(current, field) for field in services.CONTROL_FIELDS})


@csrf_exempt
@require_http_methods(["POST"])
def control_company(request: HttpRequest) -> HttpResponse:
    """POST ``{"cnpj": "…", "razao_social": "…", "situacao_cadastral": 2, "false_404_left": 1, …}``."""
    try:
        data = json.loads(request.body)
        number = stdnum_cnpj.validate(str(data.pop("cnpj")))
        company = services.company_put(cnpj=number, razao_social=str(data.pop("razao_social")), **data)
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"error": f"corpo inválido: {exc}"}, status=400)
    return JsonResponse(services.company_payload(company), status=201)


@require_http_methods(["GET"])
def control_lookups(request: HttpRequest) -> HttpResponse:
    rows = services.lookups_for(cnpj=request.GET.get("cnpj"))
    lookups = [{"cnpj": r.cnpj, "status": r.status_code, "received_at": r.received_at.isoformat()} for r in rows]
    return JsonResponse({"lookups": lookups})
