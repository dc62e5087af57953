"""POST /webhooks/omie/<token>: authenticate by the path's token, store, answer 200 at once.

Refused only: a wrong token (404, exactly like an unknown URL, so the endpoint is not advertised),
a body over the size limit (413), a body that is not JSON (400). Everything else that is authentic
is stored and answered 200 (Omie's queue must never block). A database outage answers 503 so that
Omie retries.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from common.exceptions import error_response, handler404
from common.metrics.counters import counter_add
from integrations.omie.webhooks.services import omie_webhook_store

logger = logging.getLogger(__name__)


def token_is_valid(token: str) -> bool:
    """Constant-time comparison with the current token and, during a rotation, the previous one."""
    given = token.encode()
    ok = False
    for expected in (settings.OMIE_WEBHOOK_TOKEN, settings.OMIE_WEBHOOK_TOKEN_PREVIOUS):
        # Both are always compared, so the answer time does not tell which one matched.
        ok |= bool(expected) and hmac.compare_digest(given, expected.encode())
    return ok


@csrf_exempt
def omie_webhook(request: HttpRequest, token: str) -> HttpResponse:
    if not settings.OMIE_WEBHOOKS or not token_is_valid(token):
        if settings.OMIE_WEBHOOKS:
            counter_add("blu_webhook_auth_failures", {"source": "omie"})
        return handler404(request)
    if request.method != "POST":
        return error_response(status=405, code="method_not_allowed", message="Método não permitido.")
    try:
        raw = request.body
    except RequestDataTooBig:
        return error_response(status=413, code="payload_too_large", message="Corpo da requisição grande demais.")
    try:
        payload = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return error_response(status=400, code="validation_error", message="O corpo não é um JSON válido.")
    try:
        _event, created = omie_webhook_store(raw=raw, payload=payload)
    except DatabaseError:
        logger.exception("omie webhook: database unavailable, answering 503 so that Omie retries")
        return error_response(status=503, code="unavailable", message="Banco de dados indisponível; tente novamente.")
    return JsonResponse({"received": True, "duplicate": not created})


def _not_json(token: str) -> object:
    """Python's json accepts NaN/Infinity; RFC 8259 and PostgreSQL's jsonb do not."""
    raise ValueError(f"{token} is not JSON")
