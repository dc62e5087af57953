"""The fake Omie over HTTP: ``POST /sandbox/omie/api/v1/<module>/<service>/`` like Omie's API, plus a
small JSON control surface under ``/sandbox/omie/_control/`` for tests, benches and demos."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.fake_omie.catalog import ENDPOINT_OF, ident_of
from sandbox.fake_omie.contract_gate import EXTRA_CALLS, contract_refusal
from sandbox.fake_omie.documents import request_base
from sandbox.fake_omie.gates import admit, fault, key_digest, record_answer
from sandbox.fake_omie.handlers import HANDLERS, Fault
from sandbox.fake_omie.models import FakeOmieCall, FakeOmieInjection
from sandbox.fake_omie.selectors import fake_omie_call_dict, fake_omie_calls
from sandbox.fake_omie.services import (
    fake_omie_ban,
    fake_omie_config,
    fake_omie_configure,
    fake_omie_inject,
    fake_omie_reset,
    fake_omie_seed_customer,
    take_injection,
)

logger = logging.getLogger(__name__)
Kind = FakeOmieInjection.Kind


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    if isinstance(body, str | bytes):
        response = HttpResponse(body, status=status, content_type="text/html" if status >= 500 else "application/json")
    else:
        response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["x-omie-request-id"] = str(uuid.uuid4())
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@csrf_exempt
@require_POST
def omie_api(request: HttpRequest, module: str, service: str) -> HttpResponse:
    endpoint = f"{module}/{service}/"
    request_base.set(request.build_absolute_uri("/sandbox/omie/"))  # ObterNFSe's links point back here
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _answer(500, fault("SOAP-ENV:Client-1", "Não foi possível interpretar a requisição (JSON inválido)."))
    call = str(body.get("call") or "")[:60]
    params = body.get("param")
    param = params[0] if isinstance(params, list) and params and isinstance(params[0], dict) else None
    app_key, app_secret = str(body.get("app_key") or ""), str(body.get("app_secret") or "")
    config = fake_omie_config()
    key = key_digest(app_key)
    accepted = getattr(settings, "SANDBOX_OMIE_APP_KEYS", None) or []
    if not app_key or not app_secret or (accepted and app_key not in accepted):
        row = FakeOmieCall.objects.create(app_key=key, call=call, endpoint=endpoint, param=param)
        answer = (500, fault("SOAP-ENV:Client-100", "A chave de acesso não está preenchida ou não é válida!"))
        record_answer(config=config, row=row, status=answer[0], body=answer[1])
        return _answer(*answer)

    injection = take_injection(call)
    if injection is not None and injection.kind not in (Kind.SLOW, Kind.SLOW_ANSWER):
        row = FakeOmieCall.objects.create(app_key=key, call=call, endpoint=endpoint, ident=ident_of(call, param), param=param)
        status, payload, headers = _injected(injection)
        record_answer(config=config, row=row, status=status, body=payload)
        return _answer(status, payload, headers)

    admission = admit(config=config, app_key=key, call=call, endpoint=endpoint, ident=ident_of(call, param), param=param)
    if admission.answer is not None:
        return _answer(*admission.answer)
    answer: tuple[int, dict[str, Any]] = (500, fault("SOAP-ENV:Server", "Broken response from Application Server"))
    try:
        delay = config.latency_ms / 1000 + (injection.seconds if injection is not None and injection.kind == Kind.SLOW else 0)
        if delay:
            time.sleep(delay)
        extra = EXTRA_CALLS.get(call)
        if (ENDPOINT_OF.get(call) or (extra and extra[0])) != endpoint:
            # PHP SoapServer's answer to a method the service does not have (UNVERIFIED for Omie).
            answer = (500, fault("SOAP-ENV:Client", f'Function ("{call}") is not a valid method for this service'))
        elif param is None:
            answer = (500, fault("SOAP-ENV:Client-71", "Nenhum parâmetro foi recebido em WS_PARAMS!"))
        elif (refusal := contract_refusal(call, param)) is not None:
            # Omie's published rules (required / do-not-send / types), checked in this one place.
            answer = refusal
        else:
            answer = (extra[1] if extra else HANDLERS[call])(param, config)
            if injection is not None and injection.kind == Kind.SLOW_ANSWER:
                time.sleep(injection.seconds)
    except Fault as exc:
        answer = exc.answer
    except Exception:
        logger.exception("fake Omie failed on %s", call)  # answered as Omie's transient "Broken response"
    finally:
        record_answer(config=config, row=admission.row, status=answer[0], body=answer[1])
    return _answer(*answer)


def _injected(injection: FakeOmieInjection) -> tuple[int, Any, dict[str, str]]:
    seconds = max(1, int(injection.seconds or 60))
    kind = injection.kind
    if kind == Kind.BROKEN_RESPONSE:
        return 500, {"faultstring": "SOAP-ERROR: Broken response from Application Server", "faultcode": "SOAP-ENV:Server"}, {}
    if kind == Kind.API_ERROR_8020:
        headers = {"OmieAPI-Error": "8020 - erro interno"}
        return 500, fault("SOAP-ENV:Client-8020", "Não foi possível concluir a requisição."), headers
    if kind == Kind.HTML_502:
        return 502, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>", {}
    if kind == Kind.TRUNCATED:
        return 200, '{"codigo_cliente_omie": 2400000001, "codigo_cliente_integracao": "x", "codigo_sta', {}
    if kind == Kind.EMPTY:
        return 200, "", {}
    if kind == Kind.CLIENT_1100:
        at = timezone.localtime() + timedelta(seconds=seconds)
        return 500, fault("SOAP-ENV:Client-1100", "Esta requisição já foi processada ou está sendo processada e você pode "
                                                  f"tentar novamente às {at:%H:%M:%S}."), {}
    if kind == Kind.CLIENT_1880:
        return 500, fault("SOAP-ENV:Client-1880", "Já existe uma requisição desse método sendo executada e você pode tentar "
                                                  "novamente em alguns instantes."), {}
    if kind == Kind.REDUNDANT:
        return 500, fault("SOAP-ENV:Client-6", f"Consumo redundante detectado. Aguarde {seconds} segundos para tentar novamente "
                                               "(REDUNDANT)"), {}
    if kind == Kind.RATE_LIMITED:
        return 429, fault("SOAP-ENV:Client-429", "Too many Requests"), {}
    if kind == Kind.BANNED:
        return 425, fault("MISUSE_API_PROCESS", f"API bloqueada por consumo indevido. Tente novamente em {seconds} segundos."), {}
    return 200, {"cCodStatus": "1", "cDescStatus": "Não foi possível realizar o faturamento dessa Ordem de Serviço! O CNPJ/CPF "
                                                   "deste cliente está inválido."}, {}


# control --------------------------------------------------------------------------------------
def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _config_dict() -> dict[str, Any]:
    return model_to_dict(fake_omie_config(), exclude=["id"])


@csrf_exempt
def control_config(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            fake_omie_configure(**_body(request))
        except (ValueError, ValidationError, TypeError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(_config_dict())


@csrf_exempt
@require_POST
def control_reset(request: HttpRequest) -> JsonResponse:
    try:
        fake_omie_reset(**_body(request))
    except (ValueError, ValidationError, TypeError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(_config_dict())


@require_GET
def control_calls(request: HttpRequest) -> JsonResponse:
    try:
        since_id = int(request.GET.get("since_id") or 0)
        limit = min(10000, int(request.GET.get("limit") or 1000))
    except ValueError:
        return JsonResponse({"error": "since_id and limit are integers"}, status=400)
    rows = fake_omie_calls(call=request.GET.get("call") or None, since_id=since_id)[:limit]
    return JsonResponse({"calls": [fake_omie_call_dict(r) for r in rows]})


@csrf_exempt
@require_POST
def control_inject(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    try:
        injection = fake_omie_inject(kind=str(data.get("kind")), call=str(data.get("call") or ""),
                                     times=int(data.get("times") or 1), seconds=float(data.get("seconds") or 0))
    except (ValueError, TypeError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"id": injection.id, "kind": injection.kind, "call": injection.call, "remaining": injection.remaining})


@csrf_exempt
@require_POST
def control_ban(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    if not data.get("app_key") or not data.get("call"):
        return JsonResponse({"error": "app_key and call are required"}, status=400)
    ban = fake_omie_ban(app_key=str(data["app_key"]), call=str(data["call"]), seconds=float(data.get("seconds") or 1800))
    return JsonResponse({"call": ban.call, "until": ban.until.isoformat()})


@csrf_exempt
@require_POST
def control_customer(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    try:
        customer = fake_omie_seed_customer(
            codigo_cliente_integracao=str(data.get("codigo_cliente_integracao") or ""), cnpj_cpf=str(data["cnpj_cpf"]),
            razao_social=str(data.get("razao_social") or "Cliente"), email=str(data.get("email") or ""),
        )
    except KeyError as exc:
        return JsonResponse({"error": f"missing {exc}"}, status=400)
    return JsonResponse({"codigo_cliente_omie": customer.codigo_cliente_omie})
