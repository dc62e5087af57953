"""``X-Hub-Signature`` of Pagar.me v4 webhooks ("postbacks"), the ``hmac`` scheme of PAGARME_WEBHOOK_AUTH (docs/pagarme.md).

The header is ``sha256=<hex>`` or ``sha1=<hex>``: the HMAC of the *raw* request body (verify before
parsing: re-serialised JSON would not match) keyed with PAGARME_WEBHOOK_SECRET. Compared in
constant time. Anything missing or malformed is simply invalid; this never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import string

_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
_HEX = set(string.hexdigits)


def signature_is_valid(*, raw_body: bytes, header: str | None, secret: str) -> bool:
    if not secret or not header or not isinstance(raw_body, bytes | bytearray):
        return False
    algorithm, sep, received = header.strip().partition("=")
    digest = _ALGORITHMS.get(algorithm.strip().lower())
    received = received.strip().lower()
    if not sep or digest is None or not received or not set(received) <= _HEX:
        return False
    expected = hmac.new(secret.encode(), bytes(raw_body), digest).hexdigest()
    return hmac.compare_digest(expected, received)


def signature_header(*, raw_body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """The header value Pagar.me would send (the sandbox sender and tests use it)."""
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algoritmo não suportado: {algorithm}")
    return f"{algorithm}={hmac.new(secret.encode(), raw_body, _ALGORITHMS[algorithm]).hexdigest()}"
