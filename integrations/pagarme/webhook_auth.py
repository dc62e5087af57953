"""Who may POST /webhooks/pagarme: the schemes listed in PAGARME_WEBHOOK_AUTH (docs/pagarme.md).

- ``rs256``: Pagar.me v5 signs the raw body with RSA-SHA256 (PKCS#1 v1.5) and sends
  ``X-Webhook-Asymmetric-Signature: alg=RS256; kid=<key id>; signature=<base64url>``. The public key is
  the JWKS entry with that ``kid`` (``kty=RSA``, ``use=sig``, ``alg`` absent or RS256). The JWKS lives
  in the shared cache (Redis) for PAGARME_JWKS_CACHE_SECONDS; an unknown ``kid`` (key rotation) re-reads
  it at most once per PAGARME_JWKS_REFETCH_SECONDS across every process, so a flood of made-up kids
  is not a flood of fetches. PyJWT parses the keys and checks the signature.
- ``basic``: HTTP Basic user:password as configured on the webhook in Pagar.me's dashboard.
- ``hmac``: the v4 ``X-Hub-Signature`` (integrations/pagarme/signature.py).

A request passes when one listed scheme verifies. When none does and the JWKS could not be read,
``JwksUnavailable`` is raised (the view answers 503 so Pagar.me retries). Nothing here raises otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError, PyJWKError
from redis.exceptions import RedisError

from integrations.pagarme.client import jwks_fetch
from integrations.pagarme.errors import JwksUnavailable
from integrations.pagarme.signature import signature_is_valid

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Webhook-Asymmetric-Signature"
_KID = re.compile(r"[A-Za-z0-9._:/+=-]{1,200}")
# base64url as Pagar.me documents it; the standard alphabet is accepted too (the RSA check decides).
_B64 = re.compile(r"[A-Za-z0-9_+/-]+={0,2}")
_PARAM = re.compile(r"[a-z0-9_-]{1,40}")
_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)

MESSAGES = {
    "missing_signature": f"Cabeçalho {SIGNATURE_HEADER} ausente.",
    "malformed_signature": f"Cabeçalho {SIGNATURE_HEADER} mal formado.",
    "unsupported_alg": "Algoritmo de assinatura não aceito (só RS256).",
    "unknown_kid": "A chave (kid) da assinatura não está no JWKS do Pagar.me.",
    "bad_signature": "A assinatura RS256 não confere com o corpo recebido.",
    "jwks_unavailable": "JWKS do Pagar.me indisponível.",
    "basic_missing": "Autenticação Basic ausente.",
    "basic_wrong": "Usuário/senha Basic incorretos.",
    "hmac_invalid": "Assinatura X-Hub-Signature ausente ou inválida.",
}


@dataclass
class AuthResult:
    ok: bool
    scheme: str = ""
    # scheme → reason code (MESSAGES) for every listed scheme that refused.
    reasons: dict[str, str] = field(default_factory=dict)
    kid: str = ""
    jwks_unavailable: bool = False

    @property
    def message(self) -> str:
        return " ".join(MESSAGES.get(code, code) for code in self.reasons.values())


def webhook_authenticate(*, raw_body: bytes, headers: Any) -> AuthResult:
    """Checks the listed schemes, the cheap ones first. Never raises; see ``AuthResult.jwks_unavailable``."""
    listed = list(settings.PAGARME_WEBHOOK_AUTH)
    result = AuthResult(ok=False)
    if "basic" in listed:
        reason = _basic(headers.get("Authorization"))
        if reason is None:
            return AuthResult(ok=True, scheme="basic")
        result.reasons["basic"] = reason
    if "hmac" in listed:
        if signature_is_valid(raw_body=raw_body, header=headers.get("X-Hub-Signature"), secret=settings.PAGARME_WEBHOOK_SECRET):
            return AuthResult(ok=True, scheme="hmac")
        result.reasons["hmac"] = "hmac_invalid"
    if "rs256" in listed:
        try:
            reason, result.kid = rs256_check(raw_body=raw_body, header=headers.get(SIGNATURE_HEADER))
        except JwksUnavailable:
            reason, result.jwks_unavailable = "jwks_unavailable", True
        if reason is None:
            return AuthResult(ok=True, scheme="rs256", kid=result.kid)
        result.reasons["rs256"] = reason
    return result


def rs256_check(*, raw_body: bytes, header: str | None) -> tuple[str | None, str]:
    """(None, kid) when the signature verifies, else (reason code, kid). Raises ``JwksUnavailable``."""
    if not header or not header.strip():
        return "missing_signature", ""
    parts = signature_header_parse(header)
    if parts is None:
        return "malformed_signature", ""
    kid = parts["kid"]
    if parts["alg"] != "RS256":
        return "unsupported_alg", kid
    try:
        text = parts["signature"].rstrip("=").replace("+", "-").replace("/", "_")
        signature = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return "malformed_signature", kid
    key = signing_key(kid)
    if key is None:
        return "unknown_kid", kid
    if not _RS256.verify(bytes(raw_body), key.key, signature):
        return "bad_signature", kid
    return None, kid


def signature_header_parse(header: str) -> dict[str, str] | None:
    """``alg=RS256; kid=…; signature=…`` → {alg, kid, signature}; None when anything is off.

    Other ``name=value`` parameters are ignored, as Pagar.me's own module ignores them: Pagar.me may add
    one (a timestamp, a version) and a 401 would then refuse every real webhook. Only the three we use
    decide, each present exactly once; the RSA check covers the body, so an extra parameter gains nothing.
    """
    parts: dict[str, str] = {}
    for item in header.split(";"):
        if not item.strip():
            continue
        name, sep, value = item.strip().partition("=")
        name = name.strip().lower()
        if not sep or not _PARAM.fullmatch(name) or name in parts:
            return None
        if name in ("alg", "kid", "signature"):
            parts[name] = value.strip()
    if set(parts) != {"alg", "kid", "signature"} or not _KID.fullmatch(parts["kid"]) or not _B64.fullmatch(parts["signature"]):
        return None
    return parts


# JWKS cache ----------------------------------------------------------------------------------------

def _cache_key() -> str:
    return "pagarme:jwks:" + hashlib.sha256(settings.PAGARME_JWKS_URL.encode()).hexdigest()[:16]


def jwks_cache_clear() -> None:
    _last.pop(_cache_key(), None)
    cache.delete_many([_cache_key(), _cache_key() + ":refetch"])


def signing_key(kid: str) -> PyJWK | None:
    """The usable RSA signing key with this kid: from the shared cache, else one (rate-limited) fetch.

    With Redis unreachable, this process's last copy is used (or one fetch when it has none), and an
    unknown kid is not re-fetched: nothing can rate-limit the fetches across processes then.
    """
    try:
        document = cache.get(_cache_key())
    except RedisError:
        logger.warning("pagarme jwks: shared cache unreachable; using this process's copy")
        return _usable_keys(json.dumps(_last.get(_cache_key()) or _refresh(shared=False), sort_keys=True)).get(kid)
    if document is None:
        document = _refresh()
    key = _usable_keys(json.dumps(document, sort_keys=True)).get(kid)
    if key is None and cache.add(_cache_key() + ":refetch", 1, timeout=settings.PAGARME_JWKS_REFETCH_SECONDS):
        # An unknown kid: maybe Pagar.me rotated its key. Re-read once; everyone else waits the interval out.
        key = _usable_keys(json.dumps(_refresh(), sort_keys=True)).get(kid)
    return key


_last: dict[str, dict[str, Any]] = {}


def _refresh(*, shared: bool = True) -> dict[str, Any]:

    document = jwks_fetch(settings.PAGARME_JWKS_URL)
    if not _usable_keys(json.dumps(document, sort_keys=True)):
        raise JwksUnavailable("O JWKS do Pagar.me não tem nenhuma chave RSA de assinatura utilizável.")
    _last[_cache_key()] = document
    if shared:
        cache.set(_cache_key(), document, timeout=settings.PAGARME_JWKS_CACHE_SECONDS)
    logger.info("pagarme jwks refreshed (%d keys)", len(document.get("keys", [])))
    return document


def jwks_usable_kids(document: dict[str, Any]) -> list[str]:
    """The kids of a JWKS that can verify webhooks (go-live checks: ``jwks_usable_kids(jwks_fetch())``)."""
    return sorted(_usable_keys(json.dumps(document, sort_keys=True)))


_parsed: dict[str, dict[str, PyJWK]] = {}


def _usable_keys(document_json: str) -> dict[str, PyJWK]:
    """kid → key for the entries with kty=RSA, use=sig and alg absent or RS256 (parsed once per process)."""
    found = _parsed.get(document_json)
    if found is not None:
        return found
    found = {}
    for entry in json.loads(document_json).get("keys", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        try:
            found[entry["kid"]] = PyJWK(entry, algorithm="RS256")
        except (PyJWKError, InvalidKeyError):
            continue
    if len(_parsed) > 8:
        _parsed.clear()
    _parsed[document_json] = found
    return found


def _basic(header: str | None) -> str | None:
    """None when the Basic credentials match PAGARME_WEBHOOK_BASIC_AUTH (constant-time), else the reason."""
    expected = settings.PAGARME_WEBHOOK_BASIC_AUTH.encode()
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return "basic_missing"
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "basic_wrong"
    if not expected or b":" not in expected or not hmac.compare_digest(given, expected):
        return "basic_wrong"
    return None
