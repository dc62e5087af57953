"""The client's address, the one rule for throttling (DRF) and lockouts (django-axes).

Behind nginx, REMOTE_ADDR is nginx's own address; nginx overwrites ``X-Forwarded-For`` with the
address it saw (``$remote_addr``), so with ``DJANGO_TRUST_X_FORWARDED_FOR=true`` (production's
default) the last entry of that header is the client. Without a proxy in front, a client could
send any X-Forwarded-For: then REMOTE_ADDR is used.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    meta = getattr(request, "META", {})
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return str(meta.get("REMOTE_ADDR") or "")
