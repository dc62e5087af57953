"""API rate limits (DRF throttling, counters in Redis through Django's cache).

- ``auth``: the token endpoints (obtain, refresh, blacklist), per client address: a password (or a
  stolen refresh token) cannot be tried at speed. django-axes also locks a user+address out after
  AXES_FAILURE_LIMIT wrong passwords.
- ``token``: every authenticated API call, per token (``jti``; per user for a token without one):
  a leaked token cannot flood the API.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from common.client_ip import client_ip


class AuthRateThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # unauthenticated calls are refused (401) or limited elsewhere (auth scope, webhook secret)
        auth = getattr(request, "auth", None)
        jti = auth.get("jti") if auth is not None and hasattr(auth, "get") else None
        return self.cache_format % {"scope": self.scope, "ident": f"jti:{jti}" if jti else f"user:{user.pk}"}
