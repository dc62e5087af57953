"""POST /webhooks/pagarme (SPEC §5.4): verify, store, answer 200 fast; a task does the rest."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.webhooks import pagarme_event_store
from common.exceptions import error_response


@csrf_exempt
@require_POST
def pagarme_webhook(request: HttpRequest) -> HttpResponse:
    from integrations.pagarme.signature import signature_is_valid

    try:
        raw = request.body
    except RequestDataTooBig:
        return error_response(status=413, code="payload_too_large", message="Corpo da requisição grande demais.")
    # The HMAC covers the raw bytes: verified before parsing, since re-serialised JSON would not match.
    if not signature_is_valid(raw_body=raw, header=request.headers.get("X-Hub-Signature"), secret=settings.PAGARME_WEBHOOK_SECRET):
        return error_response(status=401, code="invalid_signature", message="Assinatura X-Hub-Signature ausente ou inválida.")
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
    _event, created = pagarme_event_store(event_id=event_id.strip(), payload=payload)
    return JsonResponse({"received": True, "duplicate": not created})


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
