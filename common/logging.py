"""Log filters and the Sentry scrubber: request ids in, personal data and secrets out.

CPF (11 digits) and CNPJ (14 characters, alphanumeric since 2026) never reach a log line or a
Sentry event, formatted or not; neither do e-mail addresses, phone numbers, bearer tokens, the
Omie credentials or the Omie webhook token (the last segment of /webhooks/omie/<token>). The log filter
redacts the message, the exception text and traceback, the stack and every ``extra`` field; the Sentry
scrubber redacts every string of the event.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

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
# The Omie webhook URL carries its secret token as the last path segment.
_WEBHOOK_PATH = re.compile(r"(/webhooks/omie/)[^\s/?\"']+")


def redact(text: str) -> str:
    text = _SECRETS.sub(lambda m: m.group(1) + "[redacted]", text)
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


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_scrub(k) if isinstance(k, str) else k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) in (11, 14):
        return redact(str(value))  # a CPF/CNPJ passed as a number
    if isinstance(value, BaseException):
        return redact(repr(value))
    return value


def scrub_sentry_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry ``before_send``: mask documents and secrets anywhere in the event."""
    return _scrub(event)
