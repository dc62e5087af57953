"""API rate limits (DRF throttling, counters in Redis through Django's cache).

- ``auth``: the token endpoints (obtain, refresh, blacklist), per client address: a password (or a
  stolen refresh token) cannot be tried at speed. django-axes also locks a user+address out after
  AXES_FAILURE_LIMIT wrong passwords.
- ``token``: every authenticated API call, per token (``jti``; per user for a token without one):
  a leaked token cannot flood the API.
"""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from common.client_ip import client_ip

_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
    return _clients[url]


class AtomicRateThrottle(SimpleRateThrottle):
    """At most ``num_requests`` per ``duration`` per key, however many requests arrive at once.

    DRF's SimpleRateThrottle reads the key's history, appends and writes it back: concurrent requests
    read the same history and all pass (second security review: 1,260 concurrent calls on a
    1,200/min limit, 1,242 accepted). Here each request is one Redis transaction: ``SET key 0 EX
    duration NX`` opens the window at the key's first request, ``INCR`` counts; Redis runs the
    increments one after the other, so exactly the first ``num_requests`` of a window are accepted.
    """

    _retry_after: float = 0.0

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = f"blu:{self.key}"
        pipe = _redis().pipeline(transaction=True)
        pipe.set(key, 0, ex=self.duration, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
        _created, count, ttl_ms = pipe.execute()
        self._retry_after = max(ttl_ms, 0) / 1000
        return count <= self.num_requests

    def wait(self) -> float | None:
        """Seconds until the window closes (DRF's Retry-After)."""
        return self._retry_after


class AuthRateThrottle(AtomicRateThrottle):
    scope = "auth"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class TokenRateThrottle(AtomicRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # unauthenticated calls are refused (401) or limited elsewhere (auth scope, webhook secret)
        auth = getattr(request, "auth", None)
        jti = auth.get("jti") if auth is not None and hasattr(auth, "get") else None
        return self.cache_format % {"scope": self.scope, "ident": f"jti:{jti}" if jti else f"user:{user.pk}"}
