from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from common.request_context import request_id_from_header, set_request_id

API_PREFIXES = ("/v1/", "/webhooks/")


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
                from common.exceptions import error_response

                return error_response(
                    status=413,
                    code="payload_too_large",
                    message=f"Corpo da requisição maior que o limite de {settings.API_MAX_BODY_BYTES} bytes.",
                )
        return self.get_response(request)
