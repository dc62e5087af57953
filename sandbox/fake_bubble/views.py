"""The fake Bubble Data API: ``/sandbox/bubble/api/1.1/obj/<type>/<id>`` (GET, PATCH) and its control.

Answers like Bubble (docs/integrations.md#evidence): ``{"response": {...}}``, 204 on PATCH, the
``{"statusCode", "body": {"status", "message"}}`` envelope on errors. Sandbox only.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.bubble.fields import dumps_exact
from sandbox.fake_bubble import services
from sandbox.fake_bubble.models import FakePatch

_STATUS_NAMES = {400: "INVALID_DATA", 401: "UNAUTHORIZED", 429: "TOO_MANY_REQUESTS", 500: "SERVER_ERROR",
                 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps_exact(data), status=status, content_type="application/json")


def _envelope(status: int, message: str, bubble_status: str | None = None) -> HttpResponse:
    body = {"statusCode": status, "body": {"status": bubble_status or _STATUS_NAMES.get(status, "ERROR"), "message": message}}
    return _json(body, status)


@require_http_methods(["GET"])
def search(request: HttpRequest, type_name: str) -> HttpResponse:
    """``GET /obj/<type>?limit=N``: the first things of a type (no constraints). A type with no
    thing stored is unknown here, answered 404 like a type Bubble does not expose."""
    from sandbox.fake_bubble.models import FakeThing

    if services.outage_take() is not None:
        return _envelope(503, "Bubble está temporariamente indisponível (sandbox).")
    expected = services.control_get().token or settings.BUBBLE_API_TOKEN
    if not expected or request.headers.get("Authorization", "") != f"Bearer {expected}":
        return _envelope(401, "Invalid or missing API token")
    things = FakeThing.objects.filter(type_name=type_name).order_by("created_at", "id")
    count = things.count()
    if not count:
        return _envelope(404, f"Type not found: {type_name}", "NOT_FOUND")
    try:
        limit = max(1, min(100, int(request.GET.get("limit") or 100)))
    except ValueError:
        limit = 100
    results = [{**t.data, "_id": t.bubble_id} for t in things[:limit]]
    return _json({"response": {"cursor": 0, "results": results, "count": len(results), "remaining": max(0, count - limit)}})


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def thing(request: HttpRequest, type_name: str, bubble_id: str) -> HttpResponse:
    started_at = timezone.now()
    control = services.control_get()
    if control.latency_ms:
        time.sleep(control.latency_ms / 1000)
    raw_body = request.body.decode("utf-8", errors="replace") if request.method == "PATCH" else ""

    def fail(response: HttpResponse) -> HttpResponse:
        if request.method == "PATCH":
            services.patch_record_failure(
                type_name=type_name, bubble_id=bubble_id, raw_body=raw_body, status_code=response.status_code,
                started_at=started_at,
            )
        return response

    outage = services.outage_take()
    if outage is not None:
        return fail(_envelope(outage, "Bubble está temporariamente indisponível (sandbox)."))
    expected = control.token or settings.BUBBLE_API_TOKEN
    if not expected or request.headers.get("Authorization", "") != f"Bearer {expected}":
        return fail(_envelope(401, "Invalid or missing API token"))
    missing = _envelope(
        control.missing_status,
        f"Missing object of type {type_name}: object with id {bubble_id} does not exist",
        "MISSING_DATA",
    )
    if request.method == "GET":
        found = services.thing_get(type_name=type_name, bubble_id=bubble_id)
        if found is None:
            return missing
        response = {
            **found.data,
            "_id": found.bubble_id,
            "Created Date": found.created_at.isoformat(),
            "Modified Date": found.modified_at.isoformat(),
        }
        return _json({"response": response})
    try:
        fields = json.loads(raw_body, parse_float=Decimal)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        return fail(_envelope(400, "Request body must be a JSON object"))
    applied = services.thing_patch(
        type_name=type_name, bubble_id=bubble_id, fields=fields, raw_body=raw_body, started_at=started_at
    )
    if applied is None:
        return fail(missing)
    return HttpResponse(status=204)


# Control (tests and demos) ---------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    """GET the current misbehaviour; POST ``{"outage_status": 503, "outage_calls_left": 3, "latency_ms": 0,
    "missing_status": 404}`` (any subset) to change it."""
    if request.method == "POST":
        try:
            values = json.loads(request.body or b"{}")
            if not isinstance(values, dict):
                raise ValueError("body must be a JSON object")
            services.control_set(**values)
        except (ValueError, TypeError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    current = services.control_get()
    return JsonResponse({field: getattr(current, field) for field in (*services.CONTROL_FIELDS, "calls")})


@csrf_exempt
@require_http_methods(["POST"])
def control_reset(request: HttpRequest) -> HttpResponse:
    """POST ``{"clear_data": true}`` also forgets every thing and PATCH record."""
    try:
        options = json.loads(request.body or b"{}")
    except ValueError:
        options = {}
    services.control_reset(clear_data=bool(isinstance(options, dict) and options.get("clear_data")))
    return JsonResponse({"ok": True})


@csrf_exempt
@require_http_methods(["POST"])
def control_thing(request: HttpRequest) -> HttpResponse:
    """POST ``{"type": "pedido", "id": "…", "fields": {...}}``: creates or replaces a thing."""
    try:
        data = json.loads(request.body, parse_float=Decimal)
        found = services.thing_put(type_name=str(data["type"]), bubble_id=str(data["id"]), fields=dict(data["fields"]))
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"error": f"corpo inválido: {exc}"}, status=400)
    return _json({"type": found.type_name, "id": found.bubble_id, "fields": found.data}, 201)


@require_http_methods(["GET"])
def control_patches(request: HttpRequest) -> HttpResponse:
    """GET ``?type=pedido&id=…``: the PATCHes received, in arrival order."""
    rows: list[FakePatch] = services.patches_for(type_name=request.GET.get("type"), bubble_id=request.GET.get("id"))
    patches = [
        {"type": p.type_name, "id": p.bubble_id, "status": p.status_code, "body": p.body,
         "received_at": p.received_at.isoformat()}
        for p in rows
    ]
    return _json({"patches": patches})
