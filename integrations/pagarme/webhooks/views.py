"""POST /webhooks/pagarme: authenticate (docs/pagarme.md), store, answer 200 fast; a task does the rest.

Refused requests are answered 401 (no listed scheme verified) or 503 (the JWKS could not be read, so
Pagar.me retries) in the error envelope, and each is recorded as a ``PagarmeWebhookRefusal`` with a
short excerpt of the body only, counted per source address and minute (one row for a flood). The
source address is the one rule's (``common/client_ip.py``: X-Forwarded-For only from TRUSTED_PROXIES).
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from common.client_ip import client_address
from common.exceptions import error_response
from common.metrics.counters import counter_add
from integrations.pagarme.webhook_auth import webhook_authenticate
from integrations.pagarme.webhooks.refusals import RefusalSample, pagarme_refusal_record
from integrations.pagarme.webhooks.services import pagarme_event_store


@csrf_exempt
@require_POST
def pagarme_webhook(request: HttpRequest) -> HttpResponse:

    try:
        raw = request.body
    except RequestDataTooBig:
        return error_response(status=413, code="payload_too_large", message="Corpo da requisição grande demais.")
    # Signatures cover the raw bytes: verified before parsing, since re-serialised JSON would not match.
    auth = webhook_authenticate(raw_body=raw, headers=request.headers)
    if not auth.ok:
        return _refuse(request, raw, auth)
    try:
        payload = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return error_response(status=400, code="validation_error", message="O corpo não é um JSON válido.")
    if not _storable(payload):
        # PostgreSQL's jsonb cannot hold \u0000 nor lone surrogates; Pagar.me never sends them.
        return error_response(status=400, code="validation_error", message="O corpo contém caracteres inválidos.")
    if not isinstance(payload, dict):
        return error_response(status=400, code="validation_error", message="O corpo deve ser um objeto JSON.")
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        return error_response(status=400, code="validation_error", message="Evento sem id.", details={"fields": {"id": ["Obrigatório."]}})
    _event, created = pagarme_event_store(event_id=event_id.strip(), payload=payload, auth_scheme=auth.scheme)
    return JsonResponse({"received": True, "duplicate": not created})


def _refuse(request: HttpRequest, raw: bytes, auth) -> HttpResponse:

    status = 503 if auth.jwks_unavailable else 401
    if status == 401:
        counter_add("blu_webhook_auth_failures", {"source": "pagarme"})
    pagarme_refusal_record(sample=RefusalSample(
        http_status=status, reasons=auth.reasons, message=auth.message, kid=auth.kid, remote_addr=client_address(request),
        body_bytes=len(raw), body_excerpt=raw[:120].decode("utf-8", "replace").replace("\x00", "")[:200],
    ))
    if status == 503:
        response = error_response(status=503, code="jwks_unavailable",
                                  message="Não foi possível obter as chaves públicas do Pagar.me (JWKS); tente novamente.")
        response["Retry-After"] = "30"
        return response
    return error_response(status=401, code="invalid_signature", message=auth.message or "Webhook não autenticado.",
                          details={"reasons": auth.reasons})


def _not_json(token: str) -> object:
    """Python's json accepts NaN/Infinity; RFC 8259 and PostgreSQL's jsonb do not."""
    raise ValueError(f"{token} is not JSON")


def _storable(payload: object) -> bool:
    """True when the payload can be stored as jsonb: no NUL character, no lone surrogate anywhere."""
    try:
        text = json.dumps(payload, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return "\\u0000" not in json.dumps(payload)
