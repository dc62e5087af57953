"""The fake Pagar.me: ``/sandbox/pagarme/.well-known/jwks.json`` and ``/sandbox/pagarme/core/v5/…``.

The API asks for Basic auth with PAGARME_SECRET_KEY (or one of SANDBOX_PAGARME_SECRET_KEYS) as the user
(like the real one with the account's secret key) and answers 401 otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from sandbox.fake_pagarme import keys, services


def _pause() -> None:
    latency = services.control_get()["latency_ms"]
    if latency:
        time.sleep(latency / 1000)


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    services.count_up("jwks")
    _pause()
    status = services.control_get()["jwks_status"]
    if status:
        return JsonResponse({"message": "JWKS indisponível"}, status=status)
    return JsonResponse(keys.jwks())


def _api(request: HttpRequest) -> JsonResponse | None:
    """The error answer, or None when the call may go on."""
    services.count_up("api")
    _pause()
    status = services.control_get()["api_status"]
    if status:
        return JsonResponse({"message": "Serviço indisponível"}, status=status)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        user = base64.b64decode(value, validate=True).decode().partition(":")[0] if scheme.lower() == "basic" else ""
    except (binascii.Error, UnicodeDecodeError):
        user = ""
    accepted = settings.SANDBOX_PAGARME_SECRET_KEYS or [settings.PAGARME_SECRET_KEY]
    if not user or not any(hmac.compare_digest(user.encode(), key.encode()) for key in accepted):
        return JsonResponse({"message": "Authorization has been denied for this request."}, status=401)
    return None


@require_GET
def charge(request: HttpRequest, charge_id: str) -> HttpResponse:
    refused = _api(request)
    if refused:
        return refused
    found = services.charge_get(charge_id)
    return JsonResponse(found) if found else JsonResponse({"message": "Charge not found"}, status=404)


@require_GET
def order(request: HttpRequest, order_id: str) -> HttpResponse:
    refused = _api(request)
    if refused:
        return refused
    found = services.order_get(order_id)
    return JsonResponse(found) if found else JsonResponse({"message": "Order not found"}, status=404)


@require_GET
def customers(request: HttpRequest) -> HttpResponse:
    refused = _api(request)
    if refused:
        return refused
    return JsonResponse({"data": [], "paging": {"total": 0}})
