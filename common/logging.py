"""Log filters and the Sentry scrubber: request ids in, personal data and secrets out.

CPF (11 digits) and CNPJ (14 characters, alphanumeric since 2026) never reach a log line or a
Sentry event, formatted or not; neither do bearer tokens or the Omie credentials.
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
_SECRETS = re.compile(r"(?i)(bearer\s+|app_secret\W+|app_key\W+|api[_-]?token\W+|password\W+)[^\s\"',}]+")


def redact(text: str) -> str:
    text = _SECRETS.sub(lambda m: m.group(1) + "[redacted]", text)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


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


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        record.msg = redact(str(record.msg))
        return True


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def scrub_sentry_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry ``before_send``: mask documents and secrets anywhere in the event."""
    return _scrub(event)
