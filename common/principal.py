"""Who is authenticated for the work being done now: the admin user (session) or the API caller
(JWT or service token), with the token's id. The action log stores it beside the claimed actor.

DRF authenticates inside the view and copies ``user`` and ``auth`` onto the Django request, so the
middleware only remembers the request; the principal is read when a row is written.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("principal_request", default=None)


# The claim that marks a service token (common/api/auth.py issues and checks it).
SERVICE_CLAIM = "svc"

@dataclass(frozen=True)
class Principal:
    user_id: int | None = None
    username: str = ""
    method: str = ""  # "session", "jwt" or "service"; "" for the system
    token_id: str = ""


SYSTEM = Principal()


def current_principal() -> Principal:
    request = _request.get()
    if request is None:
        return SYSTEM
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    auth: Any = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "get"):
        method = "service" if auth.get(SERVICE_CLAIM) else "jwt"
        return Principal(user.pk, user.get_username(), method, str(auth.get("jti") or "")[:64])
    return Principal(user.pk, user.get_username(), "session", "")


class PrincipalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
