"""The ``Idempotency-Key`` header on API views (docs/contract.md#http-api); the storage rules are in the service.

Every POST view under /v1/ inherits ``IdempotencyKeyMixin`` (before ``APIView``). The key is read
after authentication (it is scoped by caller) and before the handler, so a replay or a refusal
never runs the operation twice.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from common.api.idempotency_records import (
    StoredResponse,
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from common.exceptions import ApplicationError, RequestInProgress

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII; the IETF draft sends it as a structured-field string ("...").
_KEY = re.compile(r'^"?([\x21\x23-\x7e]{1,255})"?$')


class _Replay(Exception):
    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


def caller_of(request: Request) -> str:
    return f"user:{request.user.pk}"


def parse_key(raw: str) -> str:
    match = _KEY.match(raw.strip())
    if not match:
        raise ApplicationError(
            "Idempotency-Key inválida: use de 1 a 255 caracteres ASCII visíveis (um UUID, por exemplo).",
            details={"header": HEADER},
        )
    return match.group(1)


class IdempotencyKeyMixin:
    """Reserve → run → store a 2xx (or release) for POST requests that carry the header."""

    _idempotency: tuple[str, str] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authentication and permissions first
        self._idempotency = None
        raw = request.headers.get(HEADER)
        if request.method != "POST" or raw is None:
            return
        key = parse_key(raw)
        caller = caller_of(request)
        fingerprint = request_fingerprint(method=request.method, path=request.path, body=request.body)
        stored = idempotency_begin(caller=caller, key=key, fingerprint=fingerprint, method=request.method, path=request.path)
        if stored is not None:
            raise _Replay(stored)
        self._idempotency = (caller, key)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            response = Response(exc.stored.body, status=exc.stored.status)
            response[REPLAYED_HEADER] = "true"
            return response
        response = super().handle_exception(exc)  # type: ignore[misc]
        if isinstance(exc, RequestInProgress):
            response["Retry-After"] = "1"
        return response

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self._idempotency is not None:
            caller, key = self._idempotency
            self._idempotency = None
            if 200 <= response.status_code < 300:
                body = json.loads(json.dumps(getattr(response, "data", None), cls=JSONEncoder))
                idempotency_complete(caller=caller, key=key, status=response.status_code, body=body)
            else:
                idempotency_release(caller=caller, key=key)
        return response
