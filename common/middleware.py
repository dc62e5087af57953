from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from common.exceptions import API_PREFIXES, error_response
from common.request_context import request_id_from_header, set_request_id


class RequestIdMiddleware:
    """Honours ``X-Request-ID`` (nginx sets one) or makes one; it follows the work into Celery."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from_header(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            set_request_id(None)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """Refuses API bodies over API_MAX_BODY_BYTES with 413 in the error envelope, before reading them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                return error_response(
                    status=413,
                    code="payload_too_large",
                    message=f"Corpo da requisição maior que o limite de {settings.API_MAX_BODY_BYTES} bytes.",
                )
        return self.get_response(request)


NUL_MESSAGE = "Parâmetro inválido: o endereço contém um caractere nulo (%00). Corrija o filtro ou a busca e tente de novo."


class NulCharacterMiddleware:
    """Refuses a path or query string holding a NUL character with 400, before any view sees it.

    PostgreSQL text cannot store NUL: ``?sync_status__exact=%00`` in an admin list or ``?q=%00`` in an
    export reached the database and answered 500 (second security review). No filter, search or id
    here legitimately carries one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                          for key, values in request.GET.lists() for value in values):
            if request.path.startswith(API_PREFIXES):
                return error_response(status=400, code="validation_error", message=NUL_MESSAGE)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
