"""Domain errors and the one place they become HTTP (the envelope of docs/contract.md#error-envelope).

Every error an API caller sees has the shape ``{"error": {"code", "message", "details"}}``:
DRF's own exceptions, the project's ``ApplicationError`` subclasses, unknown routes and methods
under /v1/ and /webhooks/, oversized bodies and unexpected crashes (500, with the Sentry event id
instead of a traceback).
"""

from __future__ import annotations

import logging
from typing import Any

import sentry_sdk
from django.contrib import admin
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

logger = logging.getLogger(__name__)

# The paths that answer the JSON error envelope (the API and the webhooks); everything else gets a pt-BR page.
API_PREFIXES = ("/v1/", "/webhooks/")


class ApplicationError(Exception):
    """A foreseen failure with a message a person can act on (Portuguese: ops and Bubble read it)."""

    status_code = 400
    code = "validation_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidState(ApplicationError):
    status_code = 409
    code = "invalid_state"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class RequestInProgress(ApplicationError):
    status_code = 409
    code = "request_in_progress"


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(*, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status, json_dumps_params={"ensure_ascii": False})


_DRF_CODES: dict[type[Exception], tuple[str, str]] = {
    drf_exceptions.ValidationError: ("validation_error", "Dados inválidos."),
    drf_exceptions.ParseError: ("validation_error", "Corpo da requisição não é um JSON válido."),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", "Tipo de conteúdo não suportado; envie application/json."),
    drf_exceptions.NotAuthenticated: ("not_authenticated", "Credenciais de autenticação não foram fornecidas."),
    drf_exceptions.AuthenticationFailed: ("invalid_token", "Token inválido ou expirado."),
    drf_exceptions.PermissionDenied: ("permission_denied", "Você não tem permissão para executar esta ação."),
    drf_exceptions.NotFound: ("not_found", "Recurso não encontrado."),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", "Método não permitido."),
    drf_exceptions.NotAcceptable: ("not_acceptable", "Formato de resposta não aceito."),
    drf_exceptions.Throttled: ("throttled", "Muitas requisições; tente novamente em instantes."),
}


def _drf_code(exc: drf_exceptions.APIException) -> tuple[str, str]:
    for cls in type(exc).__mro__:
        if cls in _DRF_CODES:
            return _DRF_CODES[cls]
    return "error", "Erro."


def _details_from(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {"fields": detail}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: everything becomes the envelope; unknown errors become a 500."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("payload_too_large", "Corpo da requisição grande demais."), status=413)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_default_handler(exc, context)
    if response is None:
        return _internal_error_response(exc)

    assert isinstance(exc, drf_exceptions.APIException)
    code, message = _drf_code(exc)
    if isinstance(exc, drf_exceptions.AuthenticationFailed) and getattr(exc, "detail", None):
        # simplejwt's InvalidToken carries a structured detail; keep its words in details.
        response.data = error_body(code, message, {"reason": exc.detail})
    elif isinstance(exc, drf_exceptions.ValidationError):
        response.data = error_body(code, message, _details_from(exc.detail))
    else:
        detail = exc.detail if isinstance(exc.detail, str) else None
        response.data = error_body(code, message, {"reason": str(detail)} if detail and detail != message else {})
    return response


def _internal_error_response(exc: Exception) -> Response:
    logger.exception("Unhandled error in API view", exc_info=exc)
    return Response(
        error_body("internal_error", "Erro interno. A equipe foi notificada.", _sentry_details()),
        status=500,
    )


def _sentry_details() -> dict[str, Any]:
    event_id = sentry_sdk.last_event_id()
    return {"sentry_event_id": event_id} if event_id else {}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def api_route_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The catch-all at the end of /v1/: the envelope whatever DEBUG says."""
    return error_response(status=404, code="not_found", message="Rota não encontrada.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return error_response(status=404, code="not_found", message="Rota não encontrada.")

    return page_not_found(request, exception)  # type: ignore[arg-type]


FORBIDDEN_DEFAULT = "Você não tem permissão para abrir esta página. Peça acesso a um administrador."


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The API answers the envelope; everything else a pt-BR page in the admin's layout saying what is
    missing and who can do it (the message the refusal carries), never a bare "403 Forbidden"."""
    if _is_api(request):
        return error_response(status=403, code="permission_denied", message="Você não tem permissão para executar esta ação.")

    reason = str(exception) if exception is not None and str(exception) else FORBIDDEN_DEFAULT
    context = {**admin.site.each_context(request), "reason": reason, "title": "Sem permissão"}
    response = TemplateResponse(request, "403.html", context, status=403)
    return response.render()


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return error_response(
            status=500, code="internal_error", message="Erro interno. A equipe foi notificada.", details=_sentry_details()
        )

    return server_error(request)
