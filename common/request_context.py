"""The request id of the work being done now (an HTTP request or the task it enqueued)."""

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Accept what a proxy or Bubble sends, as long as it is a sane token; otherwise make our own.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def get_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def request_id_from_header(value: str | None) -> str:
    if value and _VALID.match(value):
        return value
    return uuid.uuid4().hex
