"""Log filters and the Sentry scrubber: request ids in, personal data and secrets out.

CPF (11 digits) and CNPJ (14 characters, alphanumeric since 2026) never reach a log line or a
Sentry event, formatted or not; neither do e-mail addresses, phone numbers, bearer tokens, the
Omie credentials or the Omie webhook token (the last segment of /webhooks/omie/<token>). The log filter
redacts the message, the exception text and traceback, the stack and every ``extra`` field; the Sentry
scrubber redacts every string of the event. Values under a credential-like key (``app_secret``,
``Authorization``, ``*token*``…) and under a personal-data key (``nome``, ``razao_social``, ``cpf``…)
are replaced at any depth; an extra that is not JSON (django.request's ``request``) is written as its
redacted text, never as its repr.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from pythonjsonlogger.json import JsonFormatter

from common.request_context import get_request_id

_PATTERNS = [
    # CNPJ, masked or compact, numeric or alphanumeric: 12 [0-9A-Z] + 2 digits.
    re.compile(r"\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2}\b"),
    # CPF, masked or compact.
    re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"),
]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Brazilian phone numbers as people write them: +55 (11) 91234-5678, (11) 3456-7890, 11 91234-5678,
# +5511912345678. A bare 10-11 digit run without +55 is left to the CPF pattern (11 digits) or kept
# (10 digits: Omie's codes look like that).
_PHONE = re.compile(
    r"(?<![\w+-])(?:\+55[\s.-]?\(?\d{2}\)?[\s.-]?9?\d{4}[\s.-]?\d{4}"
    r"|\(\d{2}\)[\s.-]?9?\d{4}[\s.-]?\d{4}"
    r"|\d{2}[\s.]9?\d{4}-\d{4}"
    r"|9?\d{4}-\d{4})(?![\w-])"
)
_SECRETS = re.compile(r"(?i)(bearer\s+|app_secret\W+|app_key\W+|api[_-]?token\W+|password\W+)[^\s\"',}]+")
# ``name=value`` / ``"name": "value"`` where the name says credential (client_secret=…, otp_token: …).
_SECRET_ASSIGNMENTS = re.compile(r"(?i)(\w*(?:secret|token|passw(?:or)?d|api_key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+")
# A JWT on its own (an access token copied into a message, Pagar.me's signed payloads): header.payload.signature.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# HTTP Basic credentials (``Authorization: Basic dXNlcjpwYXNz``); checked by decoding, so "basic" in prose stays.
_BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/_-]{4,}={0,2})")
# The Omie webhook URL carries its secret token in the path: everything after /webhooks/omie/ goes
# (a second segment, a doubled slash), up to the query string.
_WEBHOOK_PATH = re.compile(r"(webhooks/omie/)[^\s?#\"'<>]+")


def _basic(match: re.Match[str]) -> str:
    token = match.group(2)
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_" if "-" in token or "_" in token else None)
    except (binascii.Error, ValueError):
        return match.group(0)
    return match.group(1) + "[redacted]" if b":" in decoded else match.group(0)


def redact(text: str) -> str:
    text = _JWT.sub("[jwt]", text)
    text = _BASIC.sub(_basic, text)
    text = _SECRETS.sub(lambda m: m.group(1) + "[redacted]", text)
    text = _SECRET_ASSIGNMENTS.sub(lambda m: m.group(1) + "[redacted]", text)
    text = _EMAIL.sub("[email]", text)
    text = _WEBHOOK_PATH.sub(r"\1[redacted]", text)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return _PHONE.sub("[phone]", text)


def _mask(match: re.Match[str]) -> str:
    # Long digit runs that are not documents (Bubble ids are 13 digits + "x" + 18 digits, and
    # are protected by the \b boundaries) are rare in messages; masking one by mistake is cheap.
    return "[doc]"


def utc_timestamp(created: float) -> str:
    """One zone in every log line, whatever process wrote it: UTC, ISO 8601 with its offset
    (``2026-11-29T19:34:59.273+00:00``)."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)


class UtcJsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = get_request_id() or "-"
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id"}
_exception_formatter = logging.Formatter()


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        record.msg = redact(str(record.msg))
        if record.exc_info:
            # The exception's text and traceback (frame lines quote the source, values included):
            # formatted once, redacted, and kept as exc_text, which every formatter prints instead.
            record.exc_text = _exception_formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _RECORD_ATTRIBUTES:
                setattr(record, name, _scrub(value))
        return True


# Keys whose value is a credential whatever it looks like (Omie's request body carries app_key and
# app_secret, headers carry Authorization, Sentry's frame variables carry both): the value goes, the
# key stays, so the line still says what was there.
_SECRET_KEY = re.compile(r"(?i)secret|token|passw|authorization|app_key|api_key|cookie|signature|private_key|credential")
# Keys of personal data in order and customer payloads (ours, Bubble's, Omie's). A name has no
# pattern to find it by, so the key is what gives it away. Bare "name" is not here: Sentry's own
# contexts (os, runtime, sdk) use it.
_PERSONAL_KEY = re.compile(
    r"(?i)^(?:customer_(?:name|document|email|phone)|nome|nome_\w+|razao_social|contato|first_name|last_name|full_name"
    r"|email|telefone\w*|phone|documento|document|cpf|cnpj|cnpj_cpf|cpf_cnpj|logradouro|endereco)$"
)
# Values that serialize as themselves: kept. Anything else (a request, a model instance) is written
# by its str(), which nobody checked: it is redacted as text.
_PLAIN = (int, float, Decimal, date, time, UUID)


def _scrub_by_key(key: str, value: Any) -> Any:
    """The value with its key in mind: a credential goes whole; personal data keeps only its kind."""
    if _SECRET_KEY.search(key):
        return "[redacted]"
    if _PERSONAL_KEY.match(key):
        masked = _scrub(value)
        # A document or an e-mail keeps its kind ([doc], [email]); a name has none.
        return masked if masked != value and isinstance(masked, str) else "[redacted]"
    return _scrub(value)


def _scrub(value: Any, key: object = None) -> Any:
    if isinstance(key, str) and value is not None and not isinstance(value, bool):
        return _scrub_by_key(key, value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_scrub(k) if isinstance(k, str) else k: _scrub(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, int) and len(str(abs(value))) in (11, 14):
        return redact(str(value))  # a CPF/CNPJ passed as a number
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, BaseException):
        return redact(repr(value))
    if _is_request(value):
        # django.request's ``extra={"request": request}``: its repr carries the query string (e-mails,
        # documents) and the path (the Omie webhook token). Method and redacted path are enough.
        return f"{value.method} {redact(str(value.path))}"
    return redact(str(value))


def _is_request(value: Any) -> bool:
    return all(hasattr(value, name) for name in ("method", "path", "META"))


def scrub_sentry_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry ``before_send`` (and ``before_send_transaction``): secrets by key at any depth, documents,
    e-mails, phones, JWTs and Basic credentials anywhere in the event's strings."""
    return _scrub(event)
